"""Audit exports: every record kind of the mirror as CSV or JSON, filtered by period (a block range),
area, campaign, status and resident, each row with its on-chain anchor (docs/audit.md#exports).

Rows stream from the database (`yield_per`), oldest log first; columns come in `KINDS[kind].columns`
order, which is part of the format.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, func, select

from ._kinds import ANCHOR, FEEDBACK_STATUSES, KINDS, SESSION_STATUSES, ExportKind, Filters, query
from .periods import BlockClock, BlockPeriod, parse_when

__all__ = [
    "ANCHOR",
    "FEEDBACK_STATUSES",
    "KINDS",
    "SESSION_STATUSES",
    "BlockClock",
    "BlockPeriod",
    "ExportKind",
    "Filters",
    "columns_markdown",
    "csv_lines",
    "export_page",
    "export_rows",
    "json_chunks",
    "parse_when",
]

_YIELD_PER = 1_000


def _ordered(kind: str, chain_id: int, filters: Filters) -> tuple[ExportKind, Any]:
    spec, built = query(kind, chain_id, filters)
    c = built.selected_columns
    return spec, built.order_by(c.block_number, c.log_index)


def _plain(spec: ExportKind, row: Any) -> dict[str, Any]:
    out = dict(zip(spec.column_names, row, strict=True))
    out["contract"] = to_checksum_address(out["contract"])  # raw_log keeps the node's lower case
    if spec.name == "admin":
        out["details"] = json.loads(out["details"])
    return out


def export_rows(conn: Connection, *, kind: str, chain_id: int, filters: Filters) -> Iterator[dict[str, Any]]:
    """The kind's rows as dicts in column order, streamed from the database."""
    spec, ordered = _ordered(kind, chain_id, filters)
    result = conn.execution_options(yield_per=_YIELD_PER).execute(ordered)
    try:
        for row in result:
            yield _plain(spec, row)
    finally:
        result.close()


def export_page(
    conn: Connection, *, kind: str, chain_id: int, filters: Filters, limit: int, offset: int
) -> dict[str, Any]:
    """One page, `{"items": [...], "total": n}`."""
    spec, ordered = _ordered(kind, chain_id, filters)
    total = conn.execute(select(func.count()).select_from(ordered.order_by(None).subquery())).scalar_one()
    rows = conn.execute(ordered.limit(limit).offset(offset)).all()
    return {"items": [_plain(spec, r) for r in rows], "total": int(total)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def csv_lines(kind: str, rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text, a header then one line per row (RFC 4180 quoting, `\\r\\n` line ends)."""
    columns = KINDS[kind].column_names
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of the rows, one row per line, written as it streams."""
    yield "["
    for i, row in enumerate(rows):
        yield ("\n" if i == 0 else ",\n") + json.dumps(row, separators=(",", ":"))
    yield "\n]\n"


def columns_markdown() -> str:
    """The columns of every kind, as the Markdown tables in docs/audit.md."""
    parts = []
    for spec in KINDS.values():
        filters = ", ".join(["period", *sorted(spec.filters)])
        statuses = f"; statuses: {', '.join(spec.statuses)}" if spec.statuses else ""
        lines = [f"#### `{spec.name}`: {spec.title}", "", f"Filters: {filters}{statuses}.", ""]
        lines += ["| column | meaning |", "| --- | --- |"]
        lines += [f"| `{c}` | {d} |" for c, d in spec.columns[len(ANCHOR) :]]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
