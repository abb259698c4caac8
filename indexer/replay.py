"""Rebuilding derived tables from `raw_log`, without the node: how a handler change is deployed.

Each derived table has a version: an event table's is a fingerprint of its event specs (signature,
columns), the admin log's and each projection's a constant in code. `derived_version` records the
version each table was built with. At start-up the indexer rebuilds exactly the tables whose version
changed, from the raw logs already in SQL, in one transaction (readers see the old table until it
commits), plus the projections that read a rebuilt table. The cursor does not move and nothing is
fetched again: changing one handler costs a replay of that table's logs, not a re-index of the chain.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, delete, select

from ledger.chain.admin import ADMIN_ACTIONS, ADMIN_VERSION
from ledger.chain.decode import decode_logs, raw_to_log
from ledger.chain.events import EVENTS, EVENTS_BY_TABLE

from ._sql import insert_rows
from .models import ADMIN_ACTION, DERIVED_VERSION, EVENT_TABLES, RAW_LOG, IndexerCursor
from .projections import PROJECTIONS

__all__ = ["code_versions", "rebuild", "stale_tables"]

log = logging.getLogger(__name__)
_PAGE = 20_000


def code_versions() -> dict[str, str]:
    """The version of every derived table as this code builds it."""
    out = {
        table: hashlib.sha256("".join(s.fingerprint() for s in specs).encode()).hexdigest()[:16]
        for table, specs in EVENTS_BY_TABLE.items()
    }
    admin = repr(sorted(ADMIN_ACTIONS.items())) + str(ADMIN_VERSION)
    out["admin_action"] = hashlib.sha256(admin.encode()).hexdigest()[:16]
    out.update({p.name: str(p.version) for p in PROJECTIONS})
    return out


def stale_tables(conn: Connection) -> list[str]:
    stored = {r.name: r.version for r in conn.execute(select(DERIVED_VERSION))}
    return [name for name, version in code_versions().items() if stored.get(name) != version]


def _raw_pages(conn: Connection, chain_id: int, topics: list[str]) -> Iterator[list[dict[str, Any]]]:
    """The chain's raw logs with these topics, in chain order, a page at a time (keyset paging)."""
    after = (-1, -1)
    while True:
        query = (
            select(RAW_LOG)
            .where(
                RAW_LOG.c.chain_id == chain_id,
                RAW_LOG.c.topic0.in_(topics),
                (RAW_LOG.c.block_number > after[0])
                | ((RAW_LOG.c.block_number == after[0]) & (RAW_LOG.c.log_index > after[1])),
            )
            .order_by(RAW_LOG.c.block_number, RAW_LOG.c.log_index)
            .limit(_PAGE)
        )
        page = [raw_to_log(dict(r)) for r in conn.execute(query).mappings()]
        if not page:
            return
        yield page
        after = (int(page[-1]["blockNumber"], 16), int(page[-1]["logIndex"], 16))


def rebuild(conn: Connection, names: list[str] | None = None) -> list[str]:
    """Rebuilds the named derived tables (default: the stale ones) for every chain; returns them all.

    Projections that read a rebuilt event table are rebuilt too. Runs in the caller's transaction.
    """
    wanted = set(stale_tables(conn) if names is None else names)
    wanted |= {p.name for p in PROJECTIONS if wanted & set(p.sources)}
    if not wanted:
        return []
    chains = [int(c) for c in conn.execute(select(IndexerCursor.chain_id).distinct()).scalars()]  # type: ignore[call-overload]
    tables = [t for t in (*EVENT_TABLES, "admin_action") if t in wanted]
    for name in tables:
        conn.execute(delete(ADMIN_ACTION if name == "admin_action" else EVENT_TABLES[name]))
    topics = [
        e.topic0
        for e in EVENTS
        if e.table in wanted or (e.name in ADMIN_ACTIONS and "admin_action" in wanted)
    ]
    for chain_id in chains:
        for page in _raw_pages(conn, chain_id, topics):
            rows = decode_logs(page, chain_id, only=frozenset(tables))
            for name, batch in rows.items():
                insert_rows(conn, ADMIN_ACTION if name == "admin_action" else EVENT_TABLES[name], batch)
        for projection in PROJECTIONS:
            if projection.name in wanted:
                projection.rebuild(conn, chain_id)
    versions = code_versions()
    conn.execute(delete(DERIVED_VERSION).where(DERIVED_VERSION.c.name.in_(sorted(wanted))))
    conn.execute(DERIVED_VERSION.insert(), [{"name": n, "version": versions[n]} for n in sorted(wanted)])
    if chains:  # a fresh database only records the versions
        log.warning("rebuilt from raw logs: %s", ", ".join(sorted(wanted)))
    return sorted(wanted)
