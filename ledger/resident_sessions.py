"""Residents with their own wallet sign in with Ethereum (EIP-4361, `ledger.siwe`) to read their own
private data (`GET /v1/residents/me`): a single-use nonce, a signed message checked like a staff
sign-in (domain, URI, chain, times, EIP-191 or ERC-1271 signature), then a short-lived bearer
session, stored only as the token's sha256. Residents' nonces and sessions are their own tables: a
resident's sign-in never opens a staff session, and the other way round.

Refusals are `ResidentAuthError` (401): `sign_in_refused` with the reason in `.reason` (for logs),
`not_authenticated` for a missing, unknown, expired or revoked session token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Field, Session, SQLModel, col, select

from .errors import ResidentAuthError
from .siwe import Erc1271, SiweMessage, SiweRefusedError, check_message, epoch, new_nonce, signature_ok
from .types import checksum

__all__ = [
    "IssuedResidentSession",
    "ResidentSession",
    "ResidentSiweNonce",
    "issue_nonce",
    "resolve_session",
    "revoke_session",
    "sign_in",
]

STATEMENT = "Sign in to the ESG participation ledger to read your own records."


class ResidentSiweNonce(SQLModel, table=True):
    """A nonce handed out for one resident's Sign-In with Ethereum message: used once, before it expires."""

    __tablename__ = "resident_siwe_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    created_at: float
    expires_at: float = Field(index=True)
    used_at: float | None = None


class ResidentSession(SQLModel, table=True):
    """A resident's bearer session: the sha256 of its token, whose address it is, until when."""

    __tablename__ = "resident_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    address: str = Field(max_length=42, index=True)
    created_at: float
    expires_at: float = Field(index=True)
    revoked_at: float | None = None


@dataclass(frozen=True)
class IssuedResidentSession:
    """What the resident gets once: the bearer token (never stored) and when it expires."""

    token: str
    address: str
    expires_at: float


def _hash(token: str) -> str:
    return hashlib.sha256(b"esg-resident-session:" + token.encode()).hexdigest()


def issue_nonce(*, session: Session, ttl: float, now: float) -> ResidentSiweNonce:
    """A fresh single-use nonce (the caller commits); nonces expired over an hour ago are dropped."""
    session.execute(delete(ResidentSiweNonce).where(col(ResidentSiweNonce.expires_at) < now - 3600))
    row = ResidentSiweNonce(nonce=new_nonce(), created_at=now, expires_at=now + ttl)
    session.add(row)
    return row


def _consume(session: Session, nonce: str, now: float) -> bool:
    result = session.execute(
        update(ResidentSiweNonce)
        .where(
            col(ResidentSiweNonce.nonce) == nonce,
            col(ResidentSiweNonce.used_at).is_(None),
            col(ResidentSiweNonce.expires_at) > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _refused(reason: str, message: str, field: str) -> ResidentAuthError:
    return ResidentAuthError(message, code="sign_in_refused", field=field, reason=reason)


def sign_in(
    *,
    session: Session,
    message: str,
    signature: str,
    domain: str,
    public_url: str,
    chain_id: int,
    ttl: float,
    now: float,
    erc1271: Erc1271 | None = None,
) -> IssuedResidentSession:
    """A session for the message's address, from its signed EIP-4361 message; the caller commits.
    The nonce is used up by the first attempt that gets that far, valid or not."""
    try:
        parsed = SiweMessage.parse(message)
        check_message(parsed, domain=domain, public_url=public_url, chain_id=chain_id, now=now)
    except SiweRefusedError as exc:
        raise _refused(exc.reason, exc.message, "message") from None
    if not signature_ok(message, parsed.address, signature, erc1271):
        raise _refused("bad_signature", "the signature is not by the message's address", "signature")
    if not _consume(session, parsed.nonce, now):
        raise _refused("bad_nonce", "the nonce is unknown, used or expired: ask for a new one", "message")
    token = secrets.token_urlsafe(32)
    address = checksum(parsed.address)
    expires = now + ttl
    if parsed.expiration_time is not None:  # never outlive what the resident signed
        expires = min(expires, epoch(parsed.expiration_time))
    session.add(ResidentSession(token_hash=_hash(token), address=address, created_at=now, expires_at=expires))
    return IssuedResidentSession(token=token, address=address, expires_at=expires)


def resolve_session(*, session: Session, token: str | None, now: float) -> str:
    """The address a live bearer token signs in; ResidentAuthError (not_authenticated) otherwise."""
    if not token or len(token) > 256:
        raise ResidentAuthError("a resident session token is required (Authorization: Bearer …)")
    row = session.exec(select(ResidentSession).where(col(ResidentSession.token_hash) == _hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise ResidentAuthError("the session is unknown, expired or signed out: sign in again")
    return row.address


def revoke_session(*, session: Session, token: str, now: float) -> bool:
    """Signs the session out (the caller commits); False if it was not live."""
    result = session.execute(
        update(ResidentSession)
        .where(col(ResidentSession.token_hash) == _hash(token), col(ResidentSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
