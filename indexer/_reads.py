"""Helpers the mirror's read queries share (indexer/queries.py, indexer/_feedback_reads.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, select

Page = dict[str, Any]  # {"items": [...], "total": int}


def paged(conn: Connection, query: Select[Any], order: Sequence[Any], limit: int, offset: int) -> Any:
    """One page of `query` in `order`, and how many rows it has in all."""
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    return conn.execute(query.order_by(*order).limit(limit).offset(offset)).all(), int(total)


def position(row: Any) -> dict[str, Any]:
    """Where an event row's log is: every public record points at it."""
    return {"blockNumber": row.block_number, "logIndex": row.log_index, "txHash": row.tx_hash}


def exact_sum(conn: Connection, column: Any, *where: Any) -> int:
    """sum(column) exactly: NUMERIC on PostgreSQL; in Python on SQLite, whose integer sum() fails past
    2**63 and whose total() is a float (for small sets of rows: one resident's)."""
    if conn.dialect.name == "postgresql":
        return int(conn.execute(select(func.coalesce(func.sum(column), 0)).where(*where)).scalar_one())
    return sum(int(v) for v in conn.execute(select(column).where(*where)).scalars())
