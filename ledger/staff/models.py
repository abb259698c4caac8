"""Staff identity's tables: members, password + TOTP credentials with sealed keys, sessions, SIWE
nonces, the sign-in log and the member log (invites, (de)activations, area scopes)."""

from __future__ import annotations

import json
from enum import StrEnum

from sqlalchemy import BigInteger, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel


class MemberKind(StrEnum):
    WALLET = "wallet"  # signs with their own wallet; signs in with SIWE
    CUSTODIAL = "custodial"  # the product seals their key; signs in with password + TOTP


class MemberStatus(StrEnum):
    INVITED = "invited"  # may sign in; the first sign-in activates
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class SignInMethod(StrEnum):
    SIWE = "siwe"
    PASSWORD = "password"


class StaffMember(SQLModel, table=True):
    """A person on the ESG team; `address` holds their on-chain roles. `areas` is a JSON list of area
    codes their work is limited to, or null for every area."""

    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    address: str = Field(max_length=42, unique=True)
    login: str | None = Field(default=None, max_length=64, unique=True)
    kind: str = Field(max_length=16)
    status: str = Field(default=MemberStatus.INVITED, max_length=16)
    areas: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: float
    created_by: str = Field(max_length=200)
    activated_at: float | None = None
    deactivated_at: float | None = None

    def area_codes(self) -> frozenset[int] | None:
        return None if self.areas is None else frozenset(int(a) for a in json.loads(self.areas))


class StaffCredential(SQLModel, table=True):
    """A custodial member's password hash (argon2id), TOTP secret and key, both sealed by the custody
    KeyEncrypter with the member's id and address as associated data; the lock-out counters."""

    __tablename__ = "staff_credential"

    member_id: int = Field(primary_key=True, foreign_key="staff_member.id")
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    totp_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=64)
    last_totp_step: int | None = Field(default=None, sa_type=BigInteger)  # a used code cannot be replayed
    failed_attempts: int = 0
    locked_until: float | None = None
    updated_at: float


class StaffSession(SQLModel, table=True):
    """A signed-in session; only the sha256 of its token is stored."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="staff_member.id", index=True)
    method: str = Field(max_length=16)
    created_at: float
    last_seen_at: float
    expires_at: float  # the absolute limit; the idle limit runs from last_seen_at
    revoked_at: float | None = None
    client_ip: str | None = Field(default=None, max_length=64)


class SiweNonce(SQLModel, table=True):
    """A nonce handed out for one Sign-In with Ethereum message: used once, before it expires."""

    __tablename__ = "staff_siwe_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    created_at: float
    expires_at: float = Field(index=True)
    used_at: float | None = None


class StaffSignIn(SQLModel, table=True):
    """Every sign-in and every failed attempt: who (or what identifier was tried), how, and why not."""

    __tablename__ = "staff_signin_log"

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)
    member_id: int | None = Field(default=None, index=True)
    identifier: str = Field(max_length=200)
    method: str = Field(max_length=16)
    outcome: str = Field(max_length=16)  # success | failure
    reason: str = Field(max_length=64)
    client_ip: str | None = Field(default=None, max_length=64)


class StaffMemberEvent(SQLModel, table=True):
    """What happened to a member off-chain (invited, activated, deactivated, areas set), and by whom."""

    __tablename__ = "staff_member_event"

    id: int | None = Field(default=None, primary_key=True)
    at: float
    member_id: int = Field(index=True)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=200)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
