"""The relayer's durable outbox: accepted actions, the transactions that carry them, and nonces."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ActionStatus(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class TxStatus(StrEnum):
    SIGNED = "signed"  # stored, maybe not yet broadcast
    BROADCAST = "broadcast"  # the node accepted it
    MINED = "mined"  # receipt seen with status 1
    REVERTED = "reverted"  # receipt seen with status 0; its actions went back to the queue
    REPLACED = "replaced"  # another transaction for the same nonce settled it
    DROPPED = "dropped"  # the chain lost it (state reset); its actions went back to the queue


class ActionBase(SQLModel):
    kind: str = Field(max_length=32)
    contract: str = Field(max_length=42)
    resident: str = Field(max_length=42, index=True)
    nonce: int = Field(sa_type=BigInteger)
    deadline: int = Field(sa_type=BigInteger)


class Action(ActionBase, table=True):
    """One resident-signed action; `id` is its EIP-712 digest, the idempotency key."""

    __tablename__ = "action"
    __table_args__ = (Index("ix_action_status_created", "status", "created_at"),)

    id: str = Field(primary_key=True, max_length=66)
    message: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=ActionStatus.QUEUED, max_length=16)
    tx_id: int | None = Field(default=None, foreign_key="relay_tx.id", index=True)
    tx_hash: str | None = Field(default=None, max_length=66)
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    log_index: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    created_at: float
    updated_at: float


class ActionPublic(SQLModel):
    id: str
    kind: str
    status: str
    txHash: str | None
    blockNumber: int | None
    logIndex: int | None
    error: str | None


class RelayTx(SQLModel, table=True):
    """A signed transaction, stored before it is broadcast; every hash sent for a nonce is kept."""

    __tablename__ = "relay_tx"
    __table_args__ = (UniqueConstraint("tx_hash"), Index("ix_relay_tx_status", "status"))

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=42, index=True)
    nonce: int = Field(sa_type=BigInteger)
    tx_hash: str = Field(max_length=66)
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=TxStatus.SIGNED, max_length=16)
    max_fee: int = Field(sa_type=BigInteger)
    priority_fee: int = Field(sa_type=BigInteger)
    gas_limit: int = Field(sa_type=BigInteger)
    action_count: int
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    created_at: float
    updated_at: float


class RelayerAccount(SQLModel, table=True):
    """The next nonce each relayer key will sign with."""

    __tablename__ = "relayer_account"

    address: str = Field(primary_key=True, max_length=42)
    next_nonce: int = Field(sa_type=BigInteger)


class ResidentNonce(SQLModel, table=True):
    """The next nonce `POST /v1/actions/prepare` hands out per resident and contract."""

    __tablename__ = "resident_nonce"

    contract: str = Field(primary_key=True, max_length=42)
    resident: str = Field(primary_key=True, max_length=42)
    next_nonce: int = Field(default=0, sa_type=BigInteger)
