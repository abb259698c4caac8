"""`esg-ledger partner key issue|list|revoke`: partners' API keys (ledger/partners/keys.py), on the
machine that holds the database. A key is issued only for a partner registered and unexpired in
the mirror; it is printed once and never stored."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.errors import LedgerError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

partner_app = typer.Typer(no_args_is_help=True, help="Partners (shops, sponsors): their API keys.")
key_app = typer.Typer(no_args_is_help=True, help="Partner API keys: issue (shown once), list, revoke.")
partner_app.add_typer(key_app, name="key")
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)
ACTOR = "cli"

ChainOption = Annotated[
    int | None,
    typer.Option("--chain-id", min=1, help="The chain; by default the one chain the mirror follows."),
]


def _engine() -> Engine:
    from ledger.db import make_engine
    from migrations import migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine)
    return engine


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _chain_id(engine: Engine, chain_id: int | None) -> int:
    from sqlalchemy import select

    from indexer.models import IndexerCursor

    if chain_id is not None:
        return chain_id
    with engine.connect() as conn:
        chains = conn.execute(select(IndexerCursor.chain_id)).scalars().all()  # type: ignore[call-overload]
    if len(chains) != 1:
        raise _fail(f"the mirror follows {len(chains)} chains: pass --chain-id", 2)
    return int(chains[0])


@key_app.command("issue")
def issue(
    partner: Annotated[str, typer.Option(help="The registered partner's address (0x and 40 hex digits).")],
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'Counter 1'.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="redemptions:accept or redemptions:read (repeatable); default both."),
    ] = None,
    chain_id: ChainOption = None,
) -> None:
    """Issues a key for a registered partner and prints it, once."""
    from indexer.partner_queries import registration
    from ledger.db import session_scope
    from ledger.partners import SCOPES, issue_key
    from ledger.types import parse_checksummed

    engine = _engine()
    chain = _chain_id(engine, chain_id)
    try:
        address = parse_checksummed(partner)
    except ValueError as exc:
        raise _fail(f"--partner: {exc}", 2) from None
    try:
        with session_scope(engine) as session:
            until = registration(session.connection(), chain_id=chain, partner=address)
            issued = issue_key(
                session=session,
                chain_id=chain,
                partner=address,
                label=label,
                scopes=scope or SCOPES,
                registered_until=until,
                created_by=ACTOR,
                now=time.time(),
            )
            key_id, scopes = issued.key.id, issued.key.scopes
    except LedgerError as exc:
        raise _fail(str(exc)) from None
    out.print(f"partner API key {key_id} for {address} ({scopes})")
    out.print("the key (shown once; send it in the X-Partner-Key header):")
    print(issued.secret)  # plain stdout, nothing around it, so `$(esg-ledger partner key issue …)` works


@key_app.command("list")
def list_(
    partner: Annotated[str | None, typer.Option(help="Only this partner's keys.")] = None,
    revoked: Annotated[
        bool | None, typer.Option("--revoked/--active", help="Only revoked keys, or only active ones.")
    ] = None,
    chain_id: ChainOption = None,
) -> None:
    """Partner API keys, newest first (never their secrets)."""
    from ledger.db import read_scope
    from ledger.partners import key_public, list_keys

    engine = _engine()
    chain = _chain_id(engine, chain_id)
    try:
        with read_scope(engine) as session:
            rows, total = list_keys(
                session=session, chain_id=chain, partner=partner, revoked=revoked, limit=10_000
            )
    except ValueError as exc:
        raise _fail(f"--partner: {exc}", 2) from None
    # One tab-separated line per key, whatever the terminal's width (scripts read it too)
    out.print(f"{total} keys")
    out.print("\t".join(("id", "partner", "label", "scopes", "created", "last used", "revoked")))
    for row in rows:
        k = key_public(row)
        created = _when(k["createdAt"]) + f" by {k['createdBy']}"
        ended = _when(k["revokedAt"]) + (f" by {k['revokedBy']}" if k["revokedBy"] else "")
        fields = (k["id"], k["partner"], k["label"], " ".join(k["scopes"]), created)
        out.print("\t".join((*fields, _when(k["lastUsedAt"]) or "-", ended or "-")), markup=False)


@key_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (esg-ledger partner key list).")],
) -> None:
    """Revokes a key: every request with it is refused from now on."""
    from ledger.db import session_scope
    from ledger.partners import revoke_key

    try:
        with session_scope(_engine()) as session:
            row = revoke_key(session=session, key_id=key_id, by=ACTOR, now=time.time())
            partner = row.partner
    except LedgerError as exc:
        raise _fail(str(exc)) from None
    out.print(f"partner API key {key_id} of {partner} revoked")


def _when(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
