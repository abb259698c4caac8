"""Staff sessions: a random token, stored only as its sha256; an idle and an absolute limit;
revocable one by one (logout) or all of a member's at once (deactivation)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from .errors import StaffNotAuthenticatedError
from .models import StaffMember, StaffSession

# last_seen_at is written at most this often per session (and at least 4 times per idle limit):
# most requests only read.
_TOUCH_EVERY = 30.0


@dataclass(frozen=True)
class SessionPolicy:
    idle: float = 1800.0
    absolute: float = 28_800.0


@dataclass(frozen=True)
class IssuedSession:
    """What the client gets once: the token (cookie or bearer) and the CSRF token derived from it."""

    id: str
    token: str
    csrf: str
    expires_at: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The double-submit value for a cookie session: derived from, and not revealing, its token."""
    return hashlib.sha256(b"esg-staff-csrf:" + token.encode()).hexdigest()


def create_session(
    *,
    session: Session,
    member: StaffMember,
    method: str,
    policy: SessionPolicy,
    now: float,
    client_ip: str | None = None,
) -> IssuedSession:
    assert member.id is not None
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        id=secrets.token_hex(16),
        token_hash=token_hash(token),
        member_id=member.id,
        method=method,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        client_ip=client_ip,
    )
    session.add(row)
    return IssuedSession(id=row.id, token=token, csrf=csrf_token(token), expires_at=row.expires_at)


def resolve_session(
    *, session: Session, token: str, policy: SessionPolicy, now: float
) -> tuple[StaffSession, StaffMember]:
    """The live session of this token and its member; raises StaffNotAuthenticatedError otherwise."""
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(token))).first()
    if row is None:
        raise StaffNotAuthenticatedError("not signed in (unknown session)")
    if row.revoked_at is not None:
        raise StaffNotAuthenticatedError("this session was signed out")
    if now >= row.expires_at or now >= row.last_seen_at + policy.idle:
        raise StaffNotAuthenticatedError("this session has expired: sign in again")
    member = session.get(StaffMember, row.member_id)
    if member is None:
        raise StaffNotAuthenticatedError("not signed in (unknown member)")
    return row, member


def needs_touch(row: StaffSession, policy: SessionPolicy, now: float) -> bool:
    return now - row.last_seen_at >= min(_TOUCH_EVERY, policy.idle / 4)


def touch_session(*, session: Session, session_id: str, now: float) -> None:
    """Moves the idle limit on (only forward: concurrent requests may touch in any order)."""
    session.execute(
        update(StaffSession)
        .where(col(StaffSession.id) == session_id, col(StaffSession.last_seen_at) < now)
        .values(last_seen_at=now)
    )


def revoke_session(*, session: Session, session_id: str, now: float) -> bool:
    result = session.execute(
        update(StaffSession)
        .where(col(StaffSession.id) == session_id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_member_sessions(*, session: Session, member_id: int, now: float) -> int:
    """Signs the member out everywhere; returns how many sessions were live."""
    result = session.execute(
        update(StaffSession)
        .where(col(StaffSession.member_id) == member_id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
