"""The SQL mirror of the chain: one row per event, keyed by (chain_id, block_hash, log_index)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


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


class EventRow(SQLModel):
    chain_id: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str = Field(max_length=66)
    log_index: int
    tx_hash: str = Field(max_length=66)


class PloggingSession(EventRow, table=True):
    __tablename__ = "plogging_session"
    __table_args__ = (
        UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_plogging_session_log"),
        Index("ix_plogging_session_resident", "resident"),
        Index("ix_plogging_session_digest", "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=66)
    resident: str = Field(max_length=42)
    nonce: int = Field(sa_type=BigInteger)
    distance_meters: int = Field(sa_type=BigInteger)
    duration_seconds: int = Field(sa_type=BigInteger)
    trash_grams: int = Field(sa_type=BigInteger)
    area_code: int = Field(sa_type=BigInteger)
    started_at: int = Field(sa_type=BigInteger)
    evidence_hash: str = Field(max_length=66)
    reward: int = Field(sa_type=BigInteger)
    status: int


class TokenTransfer(EventRow, table=True):
    __tablename__ = "token_transfer"
    __table_args__ = (
        UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_token_transfer_log"),
        Index("ix_token_transfer_to", "to_address"),
        Index("ix_token_transfer_from", "from_address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=42)
    from_address: str = Field(max_length=42)
    to_address: str = Field(max_length=42)
    value: int = Field(sa_type=BigInteger)


class ActionFailure(EventRow, table=True):
    __tablename__ = "action_failure"
    __table_args__ = (
        UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_action_failure_log"),
        Index("ix_action_failure_digest", "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contract: str = Field(max_length=42)
    digest: str = Field(max_length=66)
    resident: str = Field(max_length=42)
    nonce: int = Field(sa_type=BigInteger)
    reason: str = Field(sa_column=Column(Text, nullable=False))
