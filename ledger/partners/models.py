"""The partner desk's tables: partners' API keys (hashed) and the redemptions a partner accepted."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class PartnerKey(SQLModel, table=True):
    """One API key of one registered partner. Only the SHA-256 of the whole key is kept; the key
    itself is shown once, at issue. `scopes` are space-separated."""

    __tablename__ = "partner_key"

    id: str = Field(primary_key=True, max_length=32)  # the public key id inside the key
    chain_id: int = Field(sa_type=BigInteger)
    partner: str = Field(max_length=42, index=True)
    label: str = Field(max_length=120)
    scopes: str = Field(max_length=200)
    secret_hash: str = Field(max_length=64)  # hex SHA-256 of the whole key
    created_at: float
    created_by: str = Field(max_length=200)  # a staff member's address, or "cli"
    last_used_at: float | None = None
    revoked_at: float | None = None
    revoked_by: str | None = Field(default=None, max_length=200)


class PartnerRedemption(SQLModel, table=True):
    """A redemption a partner accepted at its desk: the outbox action (`action_id`, its digest) and
    the key that accepted it. The action's status and the mirror's record say how it ended."""

    __tablename__ = "partner_redemption"

    action_id: str = Field(primary_key=True, max_length=66)
    chain_id: int = Field(sa_type=BigInteger)
    partner: str = Field(max_length=42, index=True)
    key_id: str = Field(max_length=32)
    resident: str = Field(max_length=42)
    # accepted only once the chain says the balance covers it: a balance, so a signed 64-bit integer
    amount: int = Field(sa_type=BigInteger)
    offer_hash: str = Field(max_length=66)
    accepted_at: float = Field(index=True)
