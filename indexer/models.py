"""The SQL mirror of the chain.

- `raw_log`: every log of the ledger contracts as the node returned it; the source every other
  table can be rebuilt from without the node (docs/indexer.md).
- one event table per event kind (`events.py`), keyed by the log's position;
- `admin_action`: who changed what, one row per admin event;
- state tables (balances, residents, feedback items, campaigns, …) folded from the event tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text
from sqlmodel import Field, SQLModel

from ledger.chain.events import EVENTS_BY_TABLE, EventSpec
from ledger.sqltypes import BigUint


class IndexerCursor(SQLModel, table=True):
    """The last block whose logs are all in the mirror; committed with the rows it covers."""

    __tablename__ = "indexer_cursor"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str = Field(max_length=66)
    updated_at: float


class IndexedBlock(SQLModel, table=True):
    """Hashes of recent indexed blocks: a fork shows as a stored hash the node no longer has."""

    __tablename__ = "indexed_block"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    number: int = Field(primary_key=True, sa_type=BigInteger)
    hash: str = Field(max_length=66)


# --- Everything below is Core tables: one per event table (generated from events.py), the raw log,
# the admin action log, and the state tables the projections maintain.

_METADATA = SQLModel.metadata


def _sql_type(kind: str, wide: bool = False) -> Any:
    if wide:
        return BigUint()
    if kind == "address":
        return String(42)
    if kind == "bytes32":
        return String(66)
    if kind == "bool":
        return Boolean()
    if kind in ("bytes", "string"):
        return Text()
    return Integer() if int(kind[4:] or 256) <= 16 else BigInteger()


def _position() -> list[Column[Any]]:
    # The natural key (chain_id, block_hash, log_index) is unique; leading with block_number makes the
    # primary key also serve fork rollbacks (`block_number > n`) and ordered replays, in one B-tree.
    return [
        Column("chain_id", BigInteger, primary_key=True),
        Column("block_number", BigInteger, primary_key=True),
        Column("log_index", Integer, primary_key=True),
        Column("block_hash", String(66), primary_key=True),
        Column("tx_hash", String(66), nullable=False),
    ]


# Lookup indexes the projections and the API need, per event table.
_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "plogging_session": [("resident",), ("digest",)],
    "staff_forward_request": [("signer",)],
    "action_failure": [("digest",)],
    "plogging_batch": [("batch_id",)],
    "plogging_verification": [("digest",)],
    "plogging_rejection": [("digest",)],
    "plogging_revocation": [("digest",)],
    "plogging_clawback": [("resident",)],
    "feedback_submission": [("item_id",), ("resident",)],
    "feedback_support": [("item_id",), ("resident",)],
    "feedback_answer_required": [("item_id",)],
    "feedback_review_start": [("item_id",)],
    "feedback_answer": [("item_id",)],
    "feedback_closure": [("item_id",)],
    "feedback_moderation": [("item_id",)],
    "feedback_category_set": [("category",)],
    "campaign_creation": [("campaign_id",)],
    "campaign_progress_report": [("campaign_id",)],
    "campaign_finalization": [("campaign_id",)],
    "campaign_bonus_set": [("campaign_id",)],
    "bonus_claim": [("campaign_id",), ("resident",)],
    "partner_set": [("partner",)],
    "partner_removal": [("partner",)],
    "cause_set": [("cause_id",)],
    "redemption": [("resident",), ("partner",)],
    "donation": [("resident",), ("cause_id",)],
    "role_event": [("contract", "role", "account")],
    "pause_event": [("contract",)],
    "resident_enrolment": [("resident",), ("party",), ("enroller",)],
    "resident_withdrawal": [("resident",)],
}


def _event_table(name: str, specs: list[EventSpec]) -> Table:
    columns: dict[str, Column[Any]] = {}
    for spec in specs:
        if spec.contract_column:
            columns.setdefault(spec.contract_column, Column(spec.contract_column, String(42), nullable=False))
        for f in spec.fields:
            columns.setdefault(f.column, Column(f.column, _sql_type(f.type, f.wide), nullable=False))
        for column, value in spec.constants:
            columns.setdefault(
                column, Column(column, Boolean() if isinstance(value, bool) else Text(), nullable=False)
            )
    indexes = [Index(f"ix_{name}_{'_'.join(cols)}", *cols) for cols in _INDEXES.get(name, [])]
    return Table(name, _METADATA, *_position(), *columns.values(), *indexes, sqlite_with_rowid=False)


EVENT_TABLES: dict[str, Table] = {name: _event_table(name, specs) for name, specs in EVENTS_BY_TABLE.items()}

RAW_LOG = Table(
    "raw_log",
    _METADATA,
    *_position(),
    Column("tx_index", Integer, nullable=False),
    Column("address", String(42), nullable=False),
    Column("topic0", String(66)),
    Column("topic1", String(66)),
    Column("topic2", String(66)),
    Column("topic3", String(66)),
    Column("data", Text, nullable=False),
    sqlite_with_rowid=False,
)

ADMIN_ACTION = Table(
    "admin_action",
    _METADATA,
    *_position(),
    Column("contract", String(42), nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor", String(42), nullable=False),
    Column("subject", String(66)),
    Column("details", Text, nullable=False),
    Index("ix_admin_action_actor", "actor"),
    Index("ix_admin_action_action", "action"),
    sqlite_with_rowid=False,
)

# --- State tables: the current state of each thing, folded from its events (projections.py).

BALANCE = Table(
    "balance",
    _METADATA,
    Column("chain_id", BigInteger, primary_key=True),
    Column("token", String(42), primary_key=True),
    Column("holder", String(42), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

RESIDENT = Table(
    "resident",
    _METADATA,
    Column("chain_id", BigInteger, primary_key=True),
    Column("address", String(42), primary_key=True),
    Column("first_block", BigInteger, nullable=False),
    Column("first_log_index", Integer, nullable=False),
    Column("first_tx_hash", String(66), nullable=False),
    Index("ix_resident_first_block", "first_block"),
    sqlite_with_rowid=False,
)


def _state(name: str, keys: list[Column[Any]], *columns: Column[Any] | Index) -> Table:
    return Table(
        name,
        _METADATA,
        Column("chain_id", BigInteger, primary_key=True),
        *keys,
        *columns,
        Column("updated_block", BigInteger, nullable=False),
    )


PLOGGING_REVIEW = _state(
    "plogging_review",
    [Column("digest", String(66), primary_key=True)],
    Column("resident", String(42), nullable=False),
    Column("status", Integer, nullable=False),
    Column("verifier", String(42), nullable=False),
    Column("reason_code", Integer),
    Column("reward", BigInteger, nullable=False),
    Column("minted", BigInteger),
    Column("burned", BigInteger),
)
FEEDBACK_ITEM = _state(
    "feedback_item",
    [Column("item_id", BigInteger, primary_key=True)],
    Column("digest", String(66), nullable=False),
    Column("author", String(42), nullable=False),
    Column("category", Integer, nullable=False),
    Column("area_code", BigInteger, nullable=False),
    Column("content_hash", String(66), nullable=False),
    Column("status", Integer, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Column("support_count", BigInteger, nullable=False),
    Column("answer_due_at", BigInteger),
    Column("accepted", Boolean),
    Column("answer_hash", String(66)),
    Column("reward", BigInteger),
    Column("submitted_block", BigInteger, nullable=False),
    Index("ix_feedback_item_author", "author"),
    # the public reads: one resident's items, and the list by status or category, newest first (0013)
    Index("ix_feedback_item_chain_author", "chain_id", "author", "item_id"),
    Index("ix_feedback_item_chain_status", "chain_id", "status", "item_id"),
    Index("ix_feedback_item_chain_category", "chain_id", "category", "item_id"),
)
CAMPAIGN = _state(
    "campaign",
    [Column("campaign_id", BigInteger, primary_key=True)],
    Column("starts_at", BigUint(), nullable=False),
    Column("ends_at", BigUint(), nullable=False),
    Column("metric", Integer, nullable=False),
    Column("area_code", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("goal", BigUint(), nullable=False),
    Column("progress", BigUint(), nullable=False),
    Column("metadata_hash", String(66), nullable=False),
    Column("bonus_root", String(66), nullable=False),
    Column("bonus_total", BigInteger, nullable=False),
    Column("bonus_claimed", BigInteger, nullable=False),
)
PARTNER = _state(
    "partner",
    [Column("partner", String(42), primary_key=True)],
    Column("registered", Boolean, nullable=False),
    Column("burn_on_redeem", Boolean, nullable=False),
    Column("expires_at", BigUint(), nullable=False),
    Column("metadata_hash", String(66), nullable=False),
)
CAUSE = _state(
    "cause",
    [Column("cause_id", BigInteger, primary_key=True)],
    Column("wallet", String(42), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("metadata_hash", String(66), nullable=False),
)
ROLE_MEMBER = _state(
    "role_member",
    [
        Column("contract", String(42), primary_key=True),
        Column("role", String(66), primary_key=True),
        Column("account", String(42), primary_key=True),
    ],
    Column("granted_by", String(42), nullable=False),
)
CONTRACT_PAUSE = _state(
    "contract_pause",
    [Column("contract", String(42), primary_key=True)],
    Column("paused", Boolean, nullable=False),
    Column("by_address", String(42), nullable=False),
)
# Who counts as a resident now (EnrolmentRegistry): one row per resident ever enrolled; a withdrawal
# keeps the row with `enrolled` false, so the product's gate knows the mirror has seen it.
ENROLMENT = _state(
    "enrolment",
    [Column("resident", String(42), primary_key=True)],
    Column("enrolled", Boolean, nullable=False),
    Column("party", String(66), nullable=False),
    Column("enroller", String(42), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("enrolled_block", BigInteger, nullable=False),
    Column("enrolled_tx", String(66), nullable=False),
    Column("withdrawn_by", String(42)),
    Column("reason_code", Integer),
    Index("ix_enrolment_party", "party"),
)
FEEDBACK_CATEGORY = _state(
    "feedback_category",
    [Column("category", Integer, primary_key=True)],
    Column("enabled", Boolean, nullable=False),
    Column("name", Text, nullable=False),
)

DERIVED_VERSION = Table(
    "derived_version",
    _METADATA,
    Column("name", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
)
