"""`esg-ledger privacy`: erase a resident's personal data from SQL (hashes kept, the erasure logged),
and read the erasure log."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

privacy_app = typer.Typer(
    no_args_is_help=True, help="Privacy: erase a resident's personal data; the erasure log."
)
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def _engine() -> Engine:
    from ledger.db import make_engine
    from migrations import migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine)
    return engine


@privacy_app.command()
def erase(
    resident: Annotated[str, typer.Argument(help="The resident's address (0x and 40 hex digits).")],
    by: Annotated[
        str,
        typer.Option(
            help="Who erases, for the log (e.g. a ticket or the operator's name); no personal data."
        ),
    ] = "cli",
    as_json: Annotated[bool, typer.Option("--json", help="Print the log entry as JSON.")] = False,
) -> None:
    """Erase a resident's feedback texts, custodial mapping, platform user ids and sessions; keep every
    hash, so the audit trail still verifies; log the erasure (without the erased data)."""
    from ledger.db import session_scope
    from ledger.privacy import erase_resident

    try:
        with session_scope(_engine()) as session:
            erasure = erase_resident(
                session=session, resident=resident, erased_by=f"cli:{by}", now=time.time()
            )
    except LedgerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(erasure.as_json(), indent=2))
        return
    changed = ", ".join(f"{t} {n}" for t, n in erasure.counts.items())
    out.print(f"erasure {erasure.id}: {erasure.resident} by {erasure.erased_by}: {changed}")


@privacy_app.command("log")
def log_(
    resident: Annotated[str | None, typer.Option(help="Only this resident's erasures.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The erasure log, newest first: who, when, which resident, rows changed per table."""
    from ledger.db import read_scope
    from ledger.privacy import erasures

    with read_scope(_engine()) as session:
        rows = erasures(session=session, resident=resident, limit=limit)
    if as_json:
        typer.echo(json.dumps([e.as_json() for e in rows], indent=2))
        return
    table = Table()
    for column in ("id", "resident", "by", "at (UTC)", "rows changed"):
        table.add_column(column)
    for e in rows:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.erased_at))
        table.add_row(
            str(e.id), e.resident, e.erased_by, at, ", ".join(f"{t} {n}" for t, n in e.counts.items())
        )
    out.print(table)
