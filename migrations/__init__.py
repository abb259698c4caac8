"""The schema of the outbox (ledger) and the mirror (indexer), as Alembic migrations.

The app runs them (`esg-ledger serve`, `index`, the tests and benchmarks); the library only opens
engines (`ledger.db.make_engine`).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

__all__ = ["migrate"]

_HERE = Path(__file__).resolve().parent


def migrate(engine: Engine, revision: str = "head") -> None:
    """Brings the schema to `revision` (Alembic); safe to run from several processes at once."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7347215)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
