"""`esg-ledger audit reconcile|export|metrics|report`: the ESG team's and auditors' checks of the
mirror (docs/audit.md). Every command reads the database in ESG_DATABASE_URL and the node in
ESG_RPC_URL; periods are block time (`--from`/`--to`: a date, an ISO time, or unix seconds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from ledger.errors import AuditQueryError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from indexer.exports import BlockPeriod
    from ledger.chain.rpc import HttpRpc
    from ledger.deploy import Deployment

audit_app = typer.Typer(
    no_args_is_help=True, help="Check the SQL mirror against the chain; exports, ESG figures."
)
console = Console(stderr=True)

FromOption = Annotated[
    str | None, typer.Option("--from", help="Period start: 2026-04-01 (KST), ISO time or unix s.")
]
ToOption = Annotated[str | None, typer.Option("--to", help="Period end, exclusive (same forms).")]


def _context() -> tuple[HttpRpc, Deployment, Engine]:
    from .main import _context as context
    from .main import _logging

    _logging("WARNING")
    return context(get_settings())


def _period(
    rpc: HttpRpc, deployment: Deployment, engine: Engine, since: str | None, until: str | None
) -> BlockPeriod:
    """The period's blocks, up to the mirror's cursor."""
    from indexer.exports import BlockClock, parse_when
    from indexer.store import load_cursor

    with engine.connect() as conn:
        cursor = load_cursor(conn, deployment.chain_id)
    last = cursor[0] if cursor else deployment.start_block - 1
    clock = BlockClock(rpc)
    return clock.period(
        parse_when(since, "from"),
        parse_when(until, "to"),
        start_block=deployment.start_block,
        last_block=last,
    )


def _refuse(exc: AuditQueryError) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(2)


@audit_app.command("reconcile")
def audit_reconcile() -> None:
    """Recount every row and balance from raw chain logs and token state; exit 1 on any mismatch."""
    from rich.table import Table

    from indexer.audit import reconcile

    rpc, deployment, engine = _context()
    report = reconcile(engine, rpc, deployment)
    table = Table(title=f"chain {deployment.chain_id}, up to block {report.block}")
    table.add_column("checked")
    table.add_column("count", justify="right")
    for what, n in report.counts.items():
        table.add_row(what, str(n))
    Console().print(table)
    if report.ok:
        Console().print("[green]0 mismatches[/green]: the mirror equals the chain")
        return
    for m in report.mismatches[:50]:
        Console().print(f"[red]{m.what}[/red] {m.key}: chain={m.chain!r} mirror={m.mirror!r}")
    Console().print(f"[red]{len(report.mismatches)} mismatches[/red]")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    kind: Annotated[str, typer.Argument(help="plogging, feedback, redemptions, donations, claims or admin.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    since: FromOption = None,
    until: ToOption = None,
    area: Annotated[int | None, typer.Option(help="An area code.")] = None,
    campaign: Annotated[int | None, typer.Option(help="A campaign id.")] = None,
    status: Annotated[str | None, typer.Option(help="A status of the kind (see docs/audit.md).")] = None,
    resident: Annotated[str | None, typer.Option(help="A resident's address.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: standard output).")] = None,
) -> None:
    """Export one record kind, each row with its on-chain anchor, streamed as it is read."""
    from indexer.exports import Filters, csv_lines, export_rows, json_chunks

    if fmt not in ("csv", "json"):
        raise _refuse(AuditQueryError("csv or json", field="format"))
    rpc, deployment, engine = _context()
    try:
        period = _period(rpc, deployment, engine, since, until)
        filters = Filters(period.first, period.last, area, campaign, status, resident)
        with engine.connect() as conn:
            rows = export_rows(conn, kind=kind, chain_id=deployment.chain_id, filters=filters)
            first = next(rows, None)  # refuses bad filters before anything is written
            stream = _chain(first, rows) if first is not None else iter(())
            chunks = csv_lines(kind, stream) if fmt == "csv" else json_chunks(stream)
            handle = out.open("w", newline="") if out is not None else sys.stdout
            try:
                for chunk in chunks:
                    handle.write(chunk)
            finally:
                if out is not None:
                    handle.close()
    except AuditQueryError as exc:
        raise _refuse(exc) from None


def _chain(first: dict[str, Any], rest: Any) -> Any:
    yield first
    yield from rest


@audit_app.command("metrics")
def audit_metrics(
    since: FromOption = None,
    until: ToOption = None,
    by: Annotated[str | None, typer.Option("--by", help="area, campaign or month.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON with every figure's SQL.")] = False,
) -> None:
    """ESG figures for the period: participation, waste, feedback, tokens; each names its query."""
    from rich.table import Table

    from indexer.esg_metrics import metrics_by
    from indexer.exports import BlockClock

    rpc, deployment, engine = _context()
    try:
        period = _period(rpc, deployment, engine, since, until)
        with engine.connect() as conn:
            sets = metrics_by(conn, BlockClock(rpc), chain_id=deployment.chain_id, period=period, by=by)
    except AuditQueryError as exc:
        raise _refuse(exc) from None
    if as_json:
        print(json.dumps({"groups": [s.as_json() for s in sets]}, indent=1, ensure_ascii=False))
        return
    for s in sets:
        title = f"blocks {s.first_block}-{s.last_block}" + "".join(f" · {k} {v}" for k, v in s.group.items())
        table = Table(title=title)
        for column in ("figure", "value", "unit", "query"):
            table.add_column(column, justify="right" if column == "value" else "left")
        for key, f in s.figures.items():
            table.add_row(key, "n/a" if f.value is None else f"{f.value:g}", f.unit, f.query)
        Console().print(table)


@audit_app.command("report")
def audit_report(
    out: Annotated[Path, typer.Option("--out", help="The report's directory.")],
    since: FromOption = None,
    until: ToOption = None,
    lang: Annotated[str, typer.Option("--lang", help="ko or en.")] = "ko",
) -> None:
    """Write report.html, report.pdf, anchors.csv and metrics.json; exit 1 if reconciliation failed."""
    from indexer.exports import parse_when
    from indexer.report import build_report

    rpc, deployment, engine = _context()
    try:
        result = build_report(
            engine,
            rpc,
            deployment,
            since=parse_when(since, "from"),
            until=parse_when(until, "to"),
            out_dir=out,
            lang=lang,
        )
    except AuditQueryError as exc:
        raise _refuse(exc) from None
    Console().print(result.reconciliation.line)
    Console().print(f"wrote {result.html}, {result.pdf}, {result.anchors}")
    if not result.reconciliation.ok:
        raise typer.Exit(1)
