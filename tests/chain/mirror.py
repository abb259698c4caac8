"""Helpers for indexer tests: a real SQLite or PostgreSQL mirror, dumps of every mirror table, and
the audit's verdict as the definition of "the mirror equals the chain"."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, select, text

from indexer.audit import reconcile
from indexer.models import ADMIN_ACTION, EVENT_TABLES, RAW_LOG
from indexer.projections import PROJECTIONS
from indexer.runner import Indexer
from ledger.chain.rpc import HttpRpc, Transport
from ledger.db import make_engine
from ledger.deploy import Deployment
from migrations import migrate

from ..support import Postgres

MIRROR_TABLES: tuple[Table, ...] = (
    RAW_LOG,
    *EVENT_TABLES.values(),
    ADMIN_ACTION,
    *(p.table for p in PROJECTIONS),
)


def database(kind: str, tmp_path: Path, postgres: Postgres | None = None) -> Engine:
    """A migrated, empty database: a SQLite file, or a fresh database in the throwaway cluster."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}")
    else:
        assert postgres is not None
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(postgres.url)
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        engine = make_engine(postgres.url.rsplit("/", 1)[0] + f"/{name}")
    migrate(engine)
    return engine


def make_indexer(deployment: Deployment, rpc: Transport, engine: Engine, **kwargs: Any) -> Indexer:
    return Indexer(
        engine,
        rpc,
        chain_id=deployment.chain_id,
        addresses=[c.address for c in deployment.contracts.values()],
        start_block=deployment.start_block,
        **kwargs,
    )


def dump(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every mirror table's rows, as sets of sorted (column, value) tuples."""
    out = {}
    with engine.connect() as conn:
        for table in MIRROR_TABLES:
            rows = conn.execute(select(table)).mappings()
            out[table.name] = {tuple(sorted(r.items())) for r in rows}
    return out


def assert_mirror_equals_chain(indexer: Indexer, rpc: HttpRpc, deployment: Deployment) -> None:
    head = int(rpc.call("eth_blockNumber"), 16)
    cursor = indexer.cursor()
    assert cursor is not None and cursor[0] == head, (cursor, head)
    report = reconcile(indexer.engine, rpc, deployment)
    assert report.ok, report.mismatches[:5]
    assert report.counts["raw_log"] > 0
