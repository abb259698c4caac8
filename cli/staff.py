"""`esg-ledger staff`: invite, list, activate and deactivate staff members; a custodial member's
authenticator (TOTP) and password. Roles are granted on chain (the admin's staff routes)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

staff_app = typer.Typer(
    no_args_is_help=True,
    help="Staff members: invite, list, (de)activate, TOTP; roles on chain (admin machine); the admin log.",
)
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

MemberId = Annotated[int, typer.Argument(min=1, help="The staff member's id (esg-ledger staff list).")]
ACTOR = "cli"


def _engine() -> Engine:
    from ledger.db import make_engine
    from migrations import migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine)
    return engine


def _fail(exc: LedgerError) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@staff_app.command()
def invite(
    name: Annotated[str, typer.Option(help="The person's name.")],
    address: Annotated[
        str | None, typer.Option(help="Their own wallet's address (they sign in with SIWE).")
    ] = None,
    custodial: Annotated[
        bool, typer.Option("--custodial", help="No wallet: the city keeps a key; password + TOTP.")
    ] = False,
    login: Annotated[str | None, typer.Option(help="A custodial member's login name.")] = None,
    area: Annotated[list[int] | None, typer.Option(help="Limit to this area code (repeatable).")] = None,
) -> None:
    """Invites a member; for a custodial one prints the initial password and TOTP URI, once."""
    from ledger.db import session_scope
    from ledger.staff import invite_member, staff_keys

    if custodial == (address is not None):
        raise typer.BadParameter("give --address 0x… or --custodial (with --login)")
    try:
        with session_scope(_engine()) as session:
            invitation = invite_member(
                session=session,
                name=name,
                created_by=ACTOR,
                now=time.time(),
                address=address,
                login=login,
                areas=area or None,
                keys=staff_keys(get_settings()) if custodial else None,
            )
            member = invitation.member
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"staff member {member.id}: {member.name} {member.address} ({member.kind}, {member.status})")
    if invitation.password is not None:
        out.print(f"login: {member.login}")
        out.print(
            f"initial password (shown once; change it with POST /v1/staff/password): {invitation.password}"
        )
        out.print(f"authenticator (TOTP) URI, shown once: {invitation.totp_uri}")
    out.print("grant their roles on chain to that address (admin), then they can sign in")


@staff_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="invited, active or deactivated.")] = None,
) -> None:
    """Every staff member (id, name, address, kind, status, areas)."""
    from ledger.db import read_scope
    from ledger.staff import list_members

    with read_scope(_engine()) as session:
        members, total = list_members(session=session, status=status, limit=10_000)
    table = Table("id", "name", "address", "login", "kind", "status", "areas", title=f"{total} staff members")
    for m in members:
        areas = m.area_codes()
        table.add_row(
            str(m.id),
            m.name,
            m.address,
            m.login or "",
            m.kind,
            m.status,
            "all" if areas is None else ",".join(map(str, sorted(areas))),
        )
    out.print(table)


@staff_app.command()
def deactivate(member_id: MemberId) -> None:
    """No more sign-ins; signs the member out everywhere. Revoke their on-chain roles too."""
    from ledger.db import session_scope
    from ledger.staff import deactivate_member

    try:
        with session_scope(_engine()) as session:
            member, revoked = deactivate_member(
                session=session, member_id=member_id, by=ACTOR, now=time.time()
            )
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"staff member {member.id} ({member.address}) deactivated; {revoked} session(s) revoked")


@staff_app.command()
def activate(member_id: MemberId) -> None:
    """Activates an invited member, or a deactivated one again."""
    from ledger.db import session_scope
    from ledger.staff import activate_member

    try:
        with session_scope(_engine()) as session:
            member = activate_member(session=session, member_id=member_id, by=ACTOR, now=time.time())
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"staff member {member.id} ({member.address}) is {member.status}")


@staff_app.command("totp-uri")
def totp_uri(member_id: MemberId) -> None:
    """A new authenticator secret for a custodial member, printed once as an otpauth:// URI (scan it);
    the old one stops working."""
    from ledger.db import session_scope
    from ledger.staff import get_member, rotate_totp, staff_keys

    try:
        with session_scope(_engine()) as session:
            member = get_member(session=session, member_id=member_id)
            uri = rotate_totp(
                session=session, member=member, keys=staff_keys(get_settings()), now=time.time()
            )
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(uri)


@staff_app.command("reset-password")
def reset_password(member_id: MemberId) -> None:
    """A new random password for a custodial member, printed once; clears a lock-out."""
    from ledger.db import session_scope
    from ledger.staff import get_member
    from ledger.staff import reset_password as reset

    try:
        with session_scope(_engine()) as session:
            password = reset(
                session=session, member=get_member(session=session, member_id=member_id), now=time.time()
            )
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(password)


@staff_app.command()
def areas(
    member_id: MemberId,
    area: Annotated[
        list[int] | None, typer.Option(help="An area code (repeatable); none: every area.")
    ] = None,
) -> None:
    """Limits a member's reviews and verifications to area codes (or lifts the limit)."""
    from ledger.db import session_scope
    from ledger.staff import set_areas

    try:
        with session_scope(_engine()) as session:
            member = set_areas(
                session=session, member_id=member_id, areas=area or None, by=ACTOR, now=time.time()
            )
            codes = member.area_codes()
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"staff member {member_id}: areas {'all' if codes is None else sorted(codes)}")


RoleName = Annotated[
    str,
    typer.Argument(
        help="verifier, reviewer, moderator, campaign_manager, partner_manager, policy, enroller, auditor "
        "or admin."
    ),
]
Account = Annotated[str, typer.Argument(help="The staff member's address (0x and 40 hex digits).")]


def _roles(role: str, account: str, grant: bool) -> None:
    from web3 import Web3

    from ledger.deploy import AdminSender
    from ledger.staff.roles import ROLE_GRANTS
    from ledger.types import parse_checksummed

    from .main import _context

    if role not in ROLE_GRANTS:
        out.print(f"[red]unknown role {role!r}[/red]; roles: {', '.join(ROLE_GRANTS)}")
        raise typer.Exit(2)
    try:
        who = parse_checksummed(account)
    except ValueError as exc:
        out.print(f"[red]account: {exc}[/red]")
        raise typer.Exit(2) from None
    settings = get_settings()
    try:
        admin = settings.deployer()
    except LedgerError as exc:
        raise _fail(exc) from None
    _rpc, deployment, _engine = _context(settings)
    w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
    sender = AdminSender(w3, admin, deployment.chain_id)
    function = "grantRole" if grant else "revokeRole"
    for contract, role_id in ROLE_GRANTS[role]:
        sender.transact(deployment.contracts[contract], function, bytes.fromhex(role_id[2:]), who)
    sender.settle()
    out.print(
        f"{function} {role} ({len(ROLE_GRANTS[role])} contract(s)) for {who}, signed by {admin.address}"
    )


@staff_app.command()
def grant(role: RoleName, account: Account) -> None:
    """Grants a role on chain with the admin key (ESG_DEPLOYER_KEY), from an admin machine: how the
    first staff admin gets their role. Staff admins then grant roles through the API, as themselves."""
    _roles(role, account, grant=True)


@staff_app.command()
def revoke(role: RoleName, account: Account) -> None:
    """Revokes a role on chain with the admin key, from an admin machine (the API loses it within
    one indexer interval)."""
    _roles(role, account, grant=False)


@staff_app.command()
def enrol(
    resident: Annotated[str, typer.Argument(help="The resident's address (0x and 40 hex digits).")],
    party: Annotated[str, typer.Option(help="The accountable party's code, e.g. desk:suwon-city-hall.")],
    evidence_hash: Annotated[
        str, typer.Option(help="keccak256 of the evidence kept off chain (0x + 64 hex).")
    ],
) -> None:
    """Enrols a resident on chain with the admin key (it holds ENROLLER_ROLE), from an admin machine;
    the event names the admin as enroller. Desks enrol as themselves: POST /v1/staff/enrolments."""
    import re

    from web3 import Web3

    from ledger.deploy import AdminSender
    from ledger.enrolment import CONTRACT, party_code
    from ledger.types import parse_checksummed

    from .main import _context

    try:
        who, code = parse_checksummed(resident), party_code(party)
    except (ValueError, LedgerError) as exc:
        out.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", evidence_hash):
        out.print("[red]--evidence-hash: expected 0x followed by 64 hex digits[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    try:
        admin = settings.deployer()
    except LedgerError as exc:
        raise _fail(exc) from None
    _rpc, deployment, _engine = _context(settings)
    sender = AdminSender(
        Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60})), admin, deployment.chain_id
    )
    try:
        sender.transact(
            deployment.contracts[CONTRACT],
            "enrol",
            who,
            bytes.fromhex(code[2:]),
            bytes.fromhex(evidence_hash[2:]),
        )
        sender.settle()
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"enrolled {who} for {party}, signed by {admin.address}")


@staff_app.command()
def log(
    csv_path: Annotated[str | None, typer.Option("--csv", help="Write the entries as CSV here.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this staff member's actions.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this event, e.g. FeedbackModerated.")] = None,
    from_block: Annotated[int | None, typer.Option(help="From this block.")] = None,
    to_block: Annotated[int | None, typer.Option(help="To this block.")] = None,
) -> None:
    """The admin log from the mirror (who changed what, in which block and transaction), oldest first."""
    import csv
    import json
    import sys

    from indexer import staff_queries

    from .main import _context

    settings = get_settings()
    _rpc, deployment, engine = _context(settings)
    names = {c.address: name for name, c in deployment.contracts.items()}
    with engine.connect() as conn:
        rows = list(
            staff_queries.admin_log_rows(
                conn,
                chain_id=deployment.chain_id,
                contract_names=names,
                actor=actor,
                action=action,
                from_block=from_block,
                to_block=to_block,
            )
        )
    if csv_path is None:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
        return
    with open(csv_path, "w", newline="") as fh:
        if rows:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(
                {k: json.dumps(v) if isinstance(v, dict) else v for k, v in r.items()} for r in rows
            )
    out.print(f"{len(rows)} entries → {csv_path}")
