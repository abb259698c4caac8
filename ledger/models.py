"""The relayer's durable outbox: accepted actions, their state history, the transactions that carry
them (with every hash sent for each nonce), relayer nonces and custodial wallets."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, text
from sqlmodel import Field, SQLModel


class ActionStatus(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class TxStatus(StrEnum):
    SIGNED = "signed"  # stored, not yet accepted by the node: its nonce is not used yet
    BROADCAST = "broadcast"  # the node accepted one of its attempts
    MINED = "mined"  # an attempt's receipt seen (status 1) at the confirmation depth
    REVERTED = "reverted"  # receipt with status 0; its actions went back to the queue
    EXPIRED = "expired"  # past valid-until: a no-op took its nonce; its actions went back to the queue
    DROPPED = "dropped"  # its nonce was used by a transaction we did not send; actions back to the queue
    REPLACED = "replaced"  # kept for rows written by 0.1: another transaction settled the nonce


IN_FLIGHT = (TxStatus.SIGNED, TxStatus.BROADCAST)


class AttemptStatus(StrEnum):
    SENT = "sent"  # the current attempt for its nonce
    REPLACED = "replaced"  # superseded by a higher-fee attempt (or a no-op) for the same nonce
    MINED = "mined"  # this attempt's hash is the one the chain recorded


class ActionBase(SQLModel):
    kind: str = Field(max_length=32)
    contract: str = Field(max_length=42)
    resident: str = Field(max_length=42, index=True)
    nonce: int = Field(sa_type=BigInteger)
    deadline: int = Field(sa_type=BigInteger)


class Action(ActionBase, table=True):
    """One resident-signed action; `id` is its EIP-712 digest, the idempotency key."""

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_status_created", "status", "created_at"),
        Index("ix_action_resident_created", "resident", "created_at"),
    )

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


class ActionEvent(SQLModel, table=True):
    """Every state transition of every action, appended in the transaction that made it."""

    __tablename__ = "action_event"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(max_length=66, index=True)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    tx_id: int | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    at: float


class ActionPublic(SQLModel):
    id: str
    kind: str
    status: str
    txHash: str | None
    blockNumber: int | None
    logIndex: int | None
    error: str | None


class RelayTx(SQLModel, table=True):
    """One nonce of one relayer key, stored before it is broadcast.

    `raw`/`tx_hash`/fees are the current attempt, the bytes re-sent after a crash; every attempt
    (replacements, the no-op) is in `relay_attempt`. At most one in-flight row per (sender, nonce).
    """

    __tablename__ = "relay_tx"
    __table_args__ = (
        # Not unique: after a chain rewind, or a transaction the node refused, the very same signed
        # bytes may be stored again for the same nonce; (sender, nonce) in flight is what is unique.
        Index("ix_relay_tx_tx_hash", "tx_hash"),
        Index("ix_relay_tx_status", "status"),
        Index("ix_relay_tx_block_number", "block_number"),
        Index(
            "uq_relay_tx_in_flight_nonce",
            "sender",
            "nonce",
            unique=True,
            sqlite_where=text("status IN ('signed', 'broadcast')"),
            postgresql_where=text("status IN ('signed', 'broadcast')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=42, index=True)
    nonce: int = Field(sa_type=BigInteger)
    kind: str = Field(default="plogging", max_length=32)  # an action kind, or "noop"
    tx_hash: str = Field(max_length=66)
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=TxStatus.SIGNED, max_length=16)
    max_fee: int = Field(sa_type=BigInteger)
    priority_fee: int = Field(sa_type=BigInteger)
    gas_limit: int = Field(sa_type=BigInteger)
    action_count: int
    block_number: int | None = Field(default=None, sa_type=BigInteger)
    block_hash: str | None = Field(default=None, max_length=66)
    broadcasts: int = 0  # failed broadcast attempts since the last success
    valid_until: float | None = None
    sent_at: float | None = None  # when the node last accepted an attempt
    created_at: float
    updated_at: float


class RelayAttempt(SQLModel, table=True):
    """Every transaction hash signed for a relay_tx's nonce; a receipt for any of them settles it."""

    __tablename__ = "relay_attempt"

    id: int | None = Field(default=None, primary_key=True)
    tx_id: int = Field(foreign_key="relay_tx.id", index=True)
    tx_hash: str = Field(max_length=66, index=True)
    max_fee: int = Field(sa_type=BigInteger)
    priority_fee: int = Field(sa_type=BigInteger)
    noop: bool = False
    status: str = Field(default=AttemptStatus.SENT, max_length=16)
    created_at: float


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


class CustodialWallet(SQLModel, table=True):
    """A resident's key held by the city, encrypted under the master key (envelope: `key_id` names it)."""

    __tablename__ = "custodial_wallet"

    subject: str = Field(primary_key=True, max_length=128)  # the platform's id for the resident
    address: str = Field(max_length=42, unique=True)
    key_id: str = Field(max_length=64)
    # None once exported: the key left with the resident, the city keeps no copy (ledger/custody).
    ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: float
    exported_at: float | None = None
    # The platform that created it and alone may use it (ledger/platforms); "default" for the
    # legacy ESG_PLATFORM_TOKENS and for wallets from before platforms existed.
    platform_id: str | None = Field(default=None, max_length=32, index=True)
    # What the ciphertext's associated data binds: 1 the address only (before 0010), 2 subject,
    # platform and address. A wallet at 1 is re-sealed at 2 the next time it signs.
    binding: int = Field(default=2, sa_column_kwargs={"server_default": "1"})
