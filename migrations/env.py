"""Alembic environment: the ledger's outbox tables and the indexer's mirror tables share one schema."""

from alembic import context
from sqlmodel import SQLModel

import indexer.models  # noqa: F401  (registers the mirror tables)
import ledger.answers
import ledger.bonus
import ledger.demo
import ledger.desk  # (the service desk's assisted-action log)
import ledger.directory
import ledger.enrolment_requests  # (enrolment requests in the outbox)
import ledger.feedback
import ledger.models  # (registers the outbox tables)
import ledger.partners.models  # (partner API keys, desk-accepted redemptions)
import ledger.platforms.models  # (platforms, webhook deliveries)
import ledger.privacy  # (the privacy erasure log)
import ledger.resident_sessions  # (residents' SIWE nonces and sessions)
import ledger.staff.models  # noqa: F401  (staff identity)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through migrations.migrate(engine)")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
