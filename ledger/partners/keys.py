"""Partners' API keys: issue (the key is shown once), authenticate, check a scope, revoke, list.

A key reads `esgp_<key id>_<secret>`: the key id (8 random bytes, hex) finds the row, the secret
(32 random bytes, base64url) is what proves it. Only SHA-256 of the whole key is stored: a key
has 256 bits of entropy, so a slow password hash would add nothing but latency, and a leaked table
gives nobody a usable key. Hashes are compared in constant time, also for an unknown key id.
Every request reads the row, so a revoked key is refused from the moment it is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import InvalidActionError
from ..types import checksum
from .errors import (
    PartnerKeyConflictError,
    PartnerKeyInvalidError,
    PartnerKeyNotFoundError,
    PartnerKeyRequiredError,
    PartnerKeyRevokedError,
    PartnerKeyScopeError,
    PartnerNotRegisteredError,
)
from .models import PartnerKey

__all__ = [
    "HEADER",
    "KEY_PATTERN",
    "SCOPES",
    "SCOPE_ACCEPT",
    "SCOPE_READ",
    "IssuedKey",
    "authenticate",
    "get_key",
    "issue_key",
    "key_public",
    "list_keys",
    "needs_touch",
    "require_scope",
    "revoke_key",
    "touch_key",
]

HEADER = "X-Partner-Key"
SCOPE_ACCEPT = "redemptions:accept"
SCOPE_READ = "redemptions:read"
SCOPES = (SCOPE_ACCEPT, SCOPE_READ)
KEY_PATTERN = r"^esgp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$"
_KEY = re.compile(KEY_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_LABEL = 120
TOUCH_AFTER = 60.0  # seconds: last_used_at is a write, so it is kept to the minute
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A new key's row, and the key itself: shown to whoever issued it, once, and never stored."""

    key: PartnerKey
    secret: str


def _hash(presented: str) -> str:
    return hashlib.sha256(presented.encode("ascii")).hexdigest()


def _scopes(scopes: Iterable[str]) -> str:
    wanted = list(dict.fromkeys(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidActionError(
            f"expected one or more of {list(SCOPES)}, got {unknown or 'none'}", field="scopes"
        )
    return " ".join(s for s in SCOPES if s in wanted)


def _label(label: str) -> str:
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL or _CONTROL.search(label):
        raise InvalidActionError(f"1 to {MAX_LABEL} characters, no control characters", field="label")
    return label


def issue_key(
    *,
    session: Session,
    chain_id: int,
    partner: str,
    label: str,
    scopes: Iterable[str],
    registered_until: int | None,
    created_by: str,
    now: float,
) -> IssuedKey:
    """A new key for `partner`, which must be registered and unexpired at `now` (`registered_until`:
    its expiry per the mirror, None when it is not registered). The caller commits."""
    who = checksum(partner)
    scope_text = _scopes(scopes)
    text = _label(label)
    if registered_until is None or registered_until <= now:
        why = "is not a registered partner" if registered_until is None else "has an expired registration"
        raise PartnerNotRegisteredError(f"{who} {why} in the mirror", field="partner")
    key_id = secrets.token_hex(8)
    secret = f"esgp_{key_id}_{secrets.token_urlsafe(32)}"
    row = PartnerKey(
        id=key_id,
        chain_id=chain_id,
        partner=who,
        label=text,
        scopes=scope_text,
        secret_hash=_hash(secret),
        created_at=now,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return IssuedKey(key=row, secret=secret)


def authenticate(*, session: Session, presented: str | None, chain_id: int) -> PartnerKey:
    """The key row `presented` proves; raises 401 errors for a missing, wrong or revoked key."""
    if not presented:
        raise PartnerKeyRequiredError(f"send a partner API key in the {HEADER} header", field=HEADER)
    if not isinstance(presented, str) or not _KEY.fullmatch(presented):
        raise PartnerKeyInvalidError("expected esgp_<key id>_<secret>", field=HEADER)
    key_id = presented.split("_", 2)[1]
    row = session.get(PartnerKey, key_id)
    stored = row.secret_hash if row is not None and row.chain_id == chain_id else _DUMMY_HASH
    if not hmac.compare_digest(stored.encode(), _hash(presented).encode()) or row is None:
        raise PartnerKeyInvalidError("unknown partner API key", field=HEADER)
    if row.revoked_at is not None:
        raise PartnerKeyRevokedError(f"partner API key {row.id} was revoked", field=HEADER)
    return row


def require_scope(key: PartnerKey, scope: str) -> None:
    if scope not in key.scopes.split():
        raise PartnerKeyScopeError(
            f"partner API key {key.id} lacks the {scope} scope (it has: {key.scopes})", field=HEADER
        )


def needs_touch(key: PartnerKey, now: float) -> bool:
    return key.last_used_at is None or now - key.last_used_at >= TOUCH_AFTER


def touch_key(*, session: Session, key_id: str, now: float) -> None:
    row = session.get(PartnerKey, key_id)
    if row is not None:
        row.last_used_at = now
        session.add(row)


def get_key(*, session: Session, key_id: str) -> PartnerKey:
    row = session.get(PartnerKey, key_id)
    if row is None:
        raise PartnerKeyNotFoundError(f"no partner API key {key_id}", field="keyId")
    return row


def revoke_key(*, session: Session, key_id: str, by: str, now: float) -> PartnerKey:
    """Revokes the key at once; revoking it again is refused (409) and changes nothing."""
    row = get_key(session=session, key_id=key_id)
    if row.revoked_at is not None:
        raise PartnerKeyConflictError(
            f"partner API key {key_id} was already revoked by {row.revoked_by}", field="keyId"
        )
    row.revoked_at = now
    row.revoked_by = by
    session.add(row)
    session.flush()
    return row


def list_keys(
    *,
    session: Session,
    chain_id: int,
    partner: str | None = None,
    revoked: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[PartnerKey], int]:
    """Keys, newest first; one partner's, and revoked or not, when asked."""
    query = select(PartnerKey).where(PartnerKey.chain_id == chain_id)
    if partner is not None:
        query = query.where(PartnerKey.partner == checksum(partner))
    if revoked is not None:
        revoked_at = col(PartnerKey.revoked_at)
        query = query.where(revoked_at.is_not(None) if revoked else revoked_at.is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(PartnerKey.created_at).desc(), col(PartnerKey.id)).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def key_public(key: PartnerKey) -> dict[str, Any]:
    """A key as the API and CLI show it: never its secret or its hash."""
    return {
        "id": key.id,
        "partner": key.partner,
        "label": key.label,
        "scopes": key.scopes.split(),
        "createdAt": key.created_at,
        "createdBy": key.created_by,
        "lastUsedAt": key.last_used_at,
        "revokedAt": key.revoked_at,
        "revokedBy": key.revoked_by,
        "active": key.revoked_at is None,
    }
