"""The store stage: raw logs, event rows, the admin log, state tables, block hashes and the cursor,
all in one transaction; and the fork rollback, also in one transaction.

Only one writer may move a chain's cursor at a time: each write first takes the chain's lock (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock) and checks the cursor is where the
writer started from. A second indexer (the API's job next to `esg-ledger index`) that lost the race
stores nothing, so no batch's balance deltas are ever applied twice.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Table, delete, select, text

from ._sql import insert_rows
from .models import ADMIN_ACTION, EVENT_TABLES, RAW_LOG, IndexedBlock, IndexerCursor
from .projections import PROJECTIONS

__all__ = [
    "EVENT_TABLES",
    "load_cursor",
    "lock_chain",
    "rollback_to",
    "store",
    "stored_blocks",
    "write_derived",
]

_CURSOR: Table = IndexerCursor.__table__  # type: ignore[attr-defined]
_BLOCKS: Table = IndexedBlock.__table__  # type: ignore[attr-defined]
_BLOCK_OWNED: tuple[Table, ...] = (*EVENT_TABLES.values(), ADMIN_ACTION, RAW_LOG)


def lock_chain(conn: Connection, chain_id: int) -> None:
    """Serialises the chain's writers for the rest of the transaction (SQLite: BEGIN IMMEDIATE did)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7347216, :c)"), {"c": chain_id % 2**31})


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


def write_derived(conn: Connection, chain_id: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Event rows and admin log (ignoring rows already stored), then every projection's update."""
    for name, batch in rows.items():
        insert_rows(conn, ADMIN_ACTION if name == "admin_action" else EVENT_TABLES[name], batch)
    for projection in PROJECTIONS:
        projection.apply(conn, chain_id, rows)


def store(
    conn: Connection,
    chain_id: int,
    *,
    raw: list[dict[str, Any]],
    rows: dict[str, list[dict[str, Any]]],
    blocks: dict[int, str],
    cursor: tuple[int, str],
    previous: int | None,
    finality_depth: int,
) -> bool:
    """Stores one fetched range; False (and nothing written) if the cursor is no longer at `previous`
    (the block the writer read it at, None for a fresh mirror)."""
    lock_chain(conn, chain_id)
    current = load_cursor(conn, chain_id)
    if (current[0] if current else None) != previous:
        return False
    insert_rows(conn, RAW_LOG, raw)
    write_derived(conn, chain_id, rows)
    if blocks:
        _upsert_blocks(conn, chain_id, blocks)
    conn.execute(
        delete(_BLOCKS).where(_BLOCKS.c.chain_id == chain_id, _BLOCKS.c.number < cursor[0] - finality_depth)
    )
    _set_cursor(conn, chain_id, cursor)
    return True


def _upsert_blocks(conn: Connection, chain_id: int, blocks: dict[int, str]) -> None:
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO indexed_block (chain_id, number, hash) VALUES ({mark}, {mark}, {mark}) "
        "ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash",
        [(chain_id, n, h) for n, h in blocks.items()],
    )


def _set_cursor(conn: Connection, chain_id: int, cursor: tuple[int, str]) -> None:
    updated = conn.execute(
        _CURSOR.update()
        .where(_CURSOR.c.chain_id == chain_id)
        .values(block_number=cursor[0], block_hash=cursor[1], updated_at=time.time())
    )
    if updated.rowcount == 0:
        conn.execute(
            _CURSOR.insert().values(
                chain_id=chain_id, block_number=cursor[0], block_hash=cursor[1], updated_at=time.time()
            )
        )


def rollback_to(conn: Connection, chain_id: int, block: int, block_hash: str) -> dict[str, int]:
    """Undoes every row above `block` and moves the cursor there; returns the rows deleted per table."""
    lock_chain(conn, chain_id)
    for projection in PROJECTIONS:  # before the event rows they undo from are deleted
        projection.forget(conn, chain_id, block)
    deleted: dict[str, int] = {}
    for table in _BLOCK_OWNED:
        result = conn.execute(delete(table).where(table.c.chain_id == chain_id, table.c.block_number > block))
        if result.rowcount:
            deleted[table.name] = result.rowcount
    conn.execute(delete(_BLOCKS).where(_BLOCKS.c.chain_id == chain_id, _BLOCKS.c.number > block))
    _set_cursor(conn, chain_id, (block, block_hash))
    return deleted
