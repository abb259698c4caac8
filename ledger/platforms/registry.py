"""The platform registry: add, list, rotate and revoke platforms; authenticate a platform's token.

A platform's token is stored as its SHA-256 only; its webhook secret is sealed by the custody
`KeyEncrypter` with the platform id as associated data (a sealed secret copied to another row does
not open). Both are returned once, by `add_platform` and `rotate_platform`, and never again. Each
platform also gets its own enroller key (enroller.py), sealed the same way; only its address is shown.
The legacy `ESG_PLATFORM_TOKENS` (development and test only) authenticate as the platform
"default", which may submit every kind and has no webhook secret.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from ..custody import KeyEncrypter
from ..errors import NotAuthenticatedError, PlatformError
from ..kinds import KINDS
from .enroller import MAX_PARTY, party_for, seal_enroller_key
from .models import DESK_PLATFORM_ID, LEGACY_PLATFORM_ID, PLATFORM_ID_PATTERN, Platform
from .secrets import check_strength, new_secret, new_token, token_hash


@dataclass(frozen=True)
class PlatformIdentity:
    """Who a request is from, once its token checked out: what custody and webhooks need to know."""

    id: str
    name: str
    kinds: frozenset[str]
    legacy: bool = False


@dataclass(frozen=True)
class IssuedCredentials:
    """A platform's token and webhook secret, in the clear: shown once, then only their hash/seal."""

    platform: Platform
    token: str
    secret: str


def _context(platform_id: str) -> bytes:
    return b"esg-platform-webhook-secret:" + platform_id.encode()


def _parse_kinds(kinds: Iterable[str]) -> str:
    chosen = sorted(set(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        raise PlatformError(f"kinds must be a non-empty subset of {sorted(KINDS)}; got {chosen}")
    return ",".join(chosen)


def add_platform(
    *,
    session: Session,
    keys: KeyEncrypter,
    platform_id: str,
    name: str,
    kinds: Iterable[str],
    token: str | None = None,
    secret: str | None = None,
    production: bool = False,
    now: float | None = None,
) -> IssuedCredentials:
    """Registers a platform; generates its token and secret unless given (then measured), and its
    enroller key (`platform.enroller_address` is the address to grant ENROLLER_ROLE). Flushes."""
    reserved = (LEGACY_PLATFORM_ID, DESK_PLATFORM_ID)
    if not re.match(PLATFORM_ID_PATTERN, platform_id) or platform_id in reserved:
        raise PlatformError(
            f"a platform id is a slug ({PLATFORM_ID_PATTERN}), not {LEGACY_PLATFORM_ID!r} nor the service "
            f"desk's {DESK_PLATFORM_ID!r}"
        )
    if len(party_for(platform_id)) > MAX_PARTY:
        raise PlatformError(
            f"a platform id is at most {MAX_PARTY - len(party_for(''))} characters: its enrolments' party "
            f"code {party_for(platform_id)!r} must fit in bytes32"
        )
    if not 1 <= len(name.strip()) <= 120:
        raise PlatformError("a platform's name is 1 to 120 characters")
    if session.get(Platform, platform_id) is not None:
        raise PlatformError(f"platform {platform_id!r} exists; rotate or revoke it instead")
    token = token if token is not None else new_token()
    secret = secret if secret is not None else new_secret()
    check_strength(token, what="the platform token", production=production)
    check_strength(secret, what="the webhook secret", production=production)
    platform = Platform(
        id=platform_id,
        name=name.strip(),
        token_hash=token_hash(token),
        secret_ciphertext=keys.encrypt(secret.encode(), context=_context(platform_id)),
        key_id=keys.key_id,
        kinds=_parse_kinds(kinds),
        active=True,
        created_at=time.time() if now is None else now,
    )
    seal_enroller_key(platform, keys)
    session.add(platform)
    session.flush()
    return IssuedCredentials(platform=platform, token=token, secret=secret)


def get_platform(*, session: Session, platform_id: str) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise PlatformError(f"no platform {platform_id!r}")
    return platform


def list_platforms(*, session: Session, limit: int = 100, offset: int = 0) -> tuple[Sequence[Platform], int]:
    """(a page of platforms by id, how many there are)."""
    total = session.exec(select(func.count()).select_from(Platform)).one()
    rows = session.exec(select(Platform).order_by(Platform.id).offset(offset).limit(limit)).all()
    return rows, int(total)


def rotate_platform(
    *, session: Session, keys: KeyEncrypter, platform_id: str, now: float | None = None
) -> IssuedCredentials:
    """A new token and webhook secret for an active platform; the old ones stop working at once."""
    platform = get_platform(session=session, platform_id=platform_id)
    if not platform.active:
        raise PlatformError(f"platform {platform_id!r} is revoked; add a new one")
    token, secret = new_token(), new_secret()
    platform.token_hash = token_hash(token)
    platform.secret_ciphertext = keys.encrypt(secret.encode(), context=_context(platform_id))
    platform.key_id = keys.key_id
    platform.rotated_at = time.time() if now is None else now
    session.add(platform)
    session.flush()
    return IssuedCredentials(platform=platform, token=token, secret=secret)


def revoke_platform(*, session: Session, platform_id: str, now: float | None = None) -> Platform:
    """Refuses the platform's token and webhooks from now on; its wallets stay (and stay its own)."""
    platform = get_platform(session=session, platform_id=platform_id)
    if platform.active:
        platform.active = False
        platform.revoked_at = time.time() if now is None else now
        session.add(platform)
        session.flush()
    return platform


def identity(platform: Platform) -> PlatformIdentity:
    return PlatformIdentity(id=platform.id, name=platform.name, kinds=platform.allowed_kinds)


def authenticate(*, session: Session, token: str, legacy_tokens: Sequence[str] = ()) -> PlatformIdentity:
    """The active platform holding `token`; NotAuthenticatedError for anything else."""
    if token:
        digest = token_hash(token)
        row = session.exec(select(Platform).where(Platform.token_hash == digest)).first()
        if row is not None and hmac.compare_digest(row.token_hash, digest) and row.active:
            return identity(row)
        # Every legacy token is compared, in constant time each, whether or not one matched.
        matched = [hmac.compare_digest(token.encode(), t.encode()) for t in legacy_tokens]
        if any(matched):
            return PlatformIdentity(
                id=LEGACY_PLATFORM_ID, name="legacy ESG_PLATFORM_TOKENS", kinds=frozenset(KINDS), legacy=True
            )
    raise NotAuthenticatedError("a platform token (Authorization: Bearer …) is required")


def active_platform(*, session: Session, platform_id: str) -> Platform | None:
    """The platform a webhook names, if it exists and is not revoked."""
    platform = session.get(Platform, platform_id)
    return platform if platform is not None and platform.active else None


def webhook_secret(platform: Platform, keys: KeyEncrypter) -> bytes:
    """The platform's webhook secret, unsealed for the moment it verifies a signature."""
    return keys.decrypt(platform.secret_ciphertext, context=_context(platform.id))
