"""Writes decoded rows in bulk, with the cursor, in one transaction; rolls the mirror back on a fork."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from .models import ActionFailure, IndexedBlock, IndexerCursor, PloggingSession, TokenTransfer

EVENT_TABLES: dict[str, Table] = {
    str(m.__tablename__): m.__table__  # type: ignore[union-attr]
    for m in (PloggingSession, TokenTransfer, ActionFailure)
}
_CURSOR: Table = IndexerCursor.__table__  # type: ignore[attr-defined]
_BLOCKS: Table = IndexedBlock.__table__  # type: ignore[attr-defined]


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def load_cursor(conn: Connection, chain_id: int) -> tuple[int, str] | None:
    row = conn.execute(
        select(_CURSOR.c.block_number, _CURSOR.c.block_hash).where(_CURSOR.c.chain_id == chain_id)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def stored_blocks(conn: Connection, chain_id: int, since: int) -> dict[int, str]:
    rows = conn.execute(
        select(_BLOCKS.c.number, _BLOCKS.c.hash).where(
            _BLOCKS.c.chain_id == chain_id, _BLOCKS.c.number >= since
        )
    )
    return {int(n): str(h) for n, h in rows}


def store(
    conn: Connection,
    chain_id: int,
    rows: dict[str, list[dict[str, Any]]],
    blocks: dict[int, str],
    cursor: tuple[int, str],
    finality_depth: int,
) -> None:
    """Inserts rows (ignoring ones already stored, by natural key), block hashes, and the cursor."""
    for name, batch in rows.items():
        if batch:
            stmt = _insert(conn, EVENT_TABLES[name]).on_conflict_do_nothing(
                index_elements=["chain_id", "block_hash", "log_index"]
            )
            conn.execute(stmt, batch)
    if blocks:
        stmt = _insert(conn, _BLOCKS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["chain_id", "number"], set_={"hash": stmt.excluded.hash}
        )
        conn.execute(stmt, [{"chain_id": chain_id, "number": n, "hash": h} for n, h in blocks.items()])
    conn.execute(
        delete(_BLOCKS).where(_BLOCKS.c.chain_id == chain_id, _BLOCKS.c.number < cursor[0] - finality_depth)
    )
    stmt = _insert(conn, _CURSOR)
    values = {
        "chain_id": chain_id,
        "block_number": cursor[0],
        "block_hash": cursor[1],
        "updated_at": time.time(),
    }
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["chain_id"],
            set_={k: stmt.excluded[k] for k in ("block_number", "block_hash", "updated_at")},
        ),
        [values],
    )


def rollback_to(conn: Connection, chain_id: int, block: int, block_hash: str) -> dict[str, int]:
    """Deletes every row above `block` and moves the cursor there; returns the rows deleted per table."""
    deleted: dict[str, int] = {}
    for name, table in EVENT_TABLES.items():
        result = conn.execute(delete(table).where(table.c.chain_id == chain_id, table.c.block_number > block))
        deleted[name] = result.rowcount
    conn.execute(delete(_BLOCKS).where(_BLOCKS.c.chain_id == chain_id, _BLOCKS.c.number > block))
    conn.execute(
        _CURSOR.update()
        .where(_CURSOR.c.chain_id == chain_id)
        .values(block_number=block, block_hash=block_hash, updated_at=time.time())
    )
    return deleted
