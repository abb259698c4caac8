"""`esg-ledger platform`: add, list, rotate and revoke the metaverse platforms that act for residents.

A platform's API token and webhook secret are printed once, by `add` and `rotate`; the database
keeps the token's hash and the secret sealed under ESG_CUSTODY_MASTER_KEY, so neither can be shown
again. Tokens and generated secrets carry 32 random bytes; a secret read with --secret-from-stdin is
measured, and production refuses one with less entropy. Each platform also holds its own enroller
key, sealed the same way: `add`, `list` and `enroller` show its address and the grant a staff admin
runs so the platform may enrol the residents it provisions.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ledger.custody import KeyEncrypter
    from ledger.platforms import IssuedCredentials, Platform

platform_app = typer.Typer(
    no_args_is_help=True,
    help="Metaverse platforms: add, list, rotate, revoke (tokens and secrets shown once).",
)
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

PlatformId = Annotated[str, typer.Argument(help="The platform's id, a slug such as metaseoul.")]


def _engine() -> Engine:
    from ledger.db import make_engine
    from migrations import migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine)
    return engine


def _keys() -> KeyEncrypter:
    from ledger.custody import custody_keys

    keys = custody_keys(get_settings())
    if keys is None:
        console.print("[red]platforms' webhook secrets are sealed with ESG_CUSTODY_MASTER_KEY: set it[/red]")
        raise typer.Exit(1)
    return keys


def _fail(exc: LedgerError) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


def _stamp(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""


def _print_credentials(issued: IssuedCredentials) -> None:
    platform = issued.platform
    out.print(f"platform {platform.id}: {platform.name}; kinds {platform.kinds}")
    out.print(f"token: {issued.token}")
    out.print(f"webhook secret: {issued.secret}")
    console.print("[yellow]shown once: store both in the platform's secret store now[/yellow]")
    _print_enroller(platform)


def _print_enroller(platform: Platform) -> None:
    from ledger.platforms import grant_command, party_for

    if platform.enroller_address is None:
        out.print(f"enroller: none; give it one with `esg-ledger platform enroller {platform.id}`")
        return
    out.print(f"enroller address: {platform.enroller_address} (party {party_for(platform.id)})")
    grant = grant_command(platform.enroller_address)
    out.print(f"to let it enrol the residents it provisions, a staff admin runs: {grant}")


@platform_app.command()
def add(
    platform_id: PlatformId,
    name: Annotated[str, typer.Option(help="The platform's display name.")],
    kind: Annotated[list[str], typer.Option(help="An action kind it may submit (repeatable).")],
    secret_from_stdin: Annotated[
        bool, typer.Option("--secret-from-stdin", help="Use the webhook secret on stdin, not a new one.")
    ] = False,
) -> None:
    """Registers a platform; prints its API token and webhook secret, once."""
    from ledger.db import session_scope
    from ledger.platforms import add_platform

    settings = get_settings()
    secret = sys.stdin.readline().strip() if secret_from_stdin else None
    try:
        with session_scope(_engine()) as session:
            issued = add_platform(
                session=session,
                keys=_keys(),
                platform_id=platform_id,
                name=name,
                kinds=kind,
                secret=secret,
                production=settings.env == "production",
                now=time.time(),
            )
    except LedgerError as exc:
        raise _fail(exc) from None
    _print_credentials(issued)


@platform_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Every platform: id, name, kinds, enroller address, active, created and rotated times (never a
    token, secret or key)."""
    from ledger.db import read_scope
    from ledger.platforms import grant_command, list_platforms

    with read_scope(_engine()) as session:
        rows, _ = list_platforms(session=session, limit=10_000)
    if as_json:
        for p in rows:
            fields = ("id", "name", "kinds", "enroller_address", "active", "created_at", "rotated_at")
            row = {f: getattr(p, f) for f in (*fields, "revoked_at")}
            grant = grant_command(p.enroller_address) if p.enroller_address else None
            out.print(json.dumps({**row, "grant": grant}))
        return
    table = Table("id", "name", "kinds", "enroller", "active", "created", "rotated")
    for p in rows:
        table.add_row(
            p.id,
            p.name,
            p.kinds,
            p.enroller_address or "none",
            "yes" if p.active else "revoked",
            _stamp(p.created_at),
            _stamp(p.rotated_at),
        )
    out.print(table)
    for p in rows:
        if p.active and p.enroller_address:
            out.print(f"{p.id}: {grant_command(p.enroller_address)}")
    console.print("[dim]a platform enrols only once its enroller address holds the enroller role[/dim]")


@platform_app.command()
def rotate(platform_id: PlatformId) -> None:
    """New token and webhook secret for a platform; the old ones stop working at once."""
    from ledger.db import session_scope
    from ledger.platforms import rotate_platform

    try:
        with session_scope(_engine()) as session:
            issued = rotate_platform(session=session, keys=_keys(), platform_id=platform_id, now=time.time())
    except LedgerError as exc:
        raise _fail(exc) from None
    _print_credentials(issued)


@platform_app.command()
def revoke(platform_id: PlatformId) -> None:
    """Refuses the platform's token and webhooks from now on; its wallets stay its own."""
    from ledger.db import session_scope
    from ledger.platforms import revoke_platform

    try:
        with session_scope(_engine()) as session:
            platform = revoke_platform(session=session, platform_id=platform_id, now=time.time())
    except LedgerError as exc:
        raise _fail(exc) from None
    out.print(f"platform {platform.id} revoked")
    if platform.enroller_address:
        from ledger.platforms import revoke_command

        undo = revoke_command(platform.enroller_address)
        out.print(f"its enroller key keeps any role it holds: a staff admin runs {undo}")


@platform_app.command()
def enroller(platform_id: PlatformId) -> None:
    """Shows the platform's enroller address and the grant to run; gives a platform added before
    enroller keys (revision 0015) its own key first."""
    from ledger.db import session_scope
    from ledger.platforms import ensure_enroller_key

    try:
        with session_scope(_engine()) as session:
            platform, created = ensure_enroller_key(session=session, keys=_keys(), platform_id=platform_id)
    except LedgerError as exc:
        raise _fail(exc) from None
    if created:
        console.print(f"[yellow]platform {platform.id} had no enroller key: it has one now[/yellow]")
    _print_enroller(platform)
