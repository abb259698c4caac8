"""Password + TOTP sign-in for custodial staff: argon2id hashes, RFC 6238 codes (30 s, 6 digits,
one step either side), no code accepted twice (the last accepted step is kept per member), and a
lock-out after repeated failures. An unknown account costs the same hash as a known one."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eth_utils.address import is_hex_address, to_checksum_address
from sqlmodel import Session, select

from ..custody import KeyEncrypter
from .errors import SignInRefusedError, StaffError, StaffLockedError
from .keys import require_keys, seal, unseal
from .models import MemberKind, StaffCredential, StaffMember

TOTP_STEP = 30
TOTP_DIGITS = 6
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int = 5
    seconds: float = 900.0


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


MIN_PASSWORD = 12
MAX_PASSWORD = 1024


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise StaffError(f"a staff password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def new_password() -> str:
    """A random initial password (about 120 bits), shown once to whoever invites the member."""
    return secrets.token_urlsafe(15)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, *, account: str, issuer: str = "ESG ledger") -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP).provisioning_uri(
        name=account, issuer_name=issuer
    )


def _password_ok(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _totp_step(secret: str, code: str, now: float) -> int | None:
    """The time step (one either side of now) whose code this is, else None; every candidate compared."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    current = int(now // TOTP_STEP)
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            found = step
    return found


def find_member(session: Session, identifier: str) -> StaffMember | None:
    """By address (any case) or login name."""
    ident = identifier.strip()
    if is_hex_address(ident):
        return session.exec(
            select(StaffMember).where(StaffMember.address == to_checksum_address(ident))
        ).first()
    return session.exec(select(StaffMember).where(StaffMember.login == ident)).first()


def password_sign_in(
    *,
    session: Session,
    identifier: str,
    password: str,
    totp_code: str,
    keys: KeyEncrypter | None,
    policy: LockoutPolicy,
    now: float,
) -> StaffMember:
    """The member whose password and current TOTP code these are; raises `SignInRefusedError` (with the
    reason for the log) or `StaffLockedError`. Counters change in `session`: commit it either way."""
    member = find_member(session, identifier)
    credential = (
        session.get(StaffCredential, member.id)
        if member is not None and member.kind == MemberKind.CUSTODIAL
        else None
    )
    if member is None or credential is None:
        _password_ok(_dummy_hash(), password)  # as long as a real check
        raise SignInRefusedError("unknown_account" if member is None else "not_custodial")
    if credential.locked_until is not None:
        if now < credential.locked_until:
            raise StaffLockedError(credential.locked_until)
        credential.failed_attempts, credential.locked_until = 0, None
    password_ok = _password_ok(credential.password_hash, password)
    secret = unseal(require_keys(keys), "totp", member, credential.totp_sealed).decode()
    step = _totp_step(secret, totp_code.strip(), now)
    reason = (
        "wrong_password"
        if not password_ok
        else "wrong_totp"
        if step is None
        else "replayed_totp"
        if credential.last_totp_step is not None and step <= credential.last_totp_step
        else None
    )
    credential.updated_at = now
    if reason is not None:
        credential.failed_attempts += 1
        if credential.failed_attempts >= policy.failures:
            credential.locked_until = now + policy.seconds
        session.add(credential)
        raise SignInRefusedError(reason)
    credential.last_totp_step = step
    credential.failed_attempts, credential.locked_until = 0, None
    if _HASHER.check_needs_rehash(credential.password_hash):
        credential.password_hash = _HASHER.hash(password)
    session.add(credential)
    return member


def change_password(*, session: Session, member: StaffMember, current: str, new: str, now: float) -> None:
    """A signed-in member replaces their password (the current one is checked again)."""
    credential = session.get(StaffCredential, member.id)
    if credential is None or not _password_ok(credential.password_hash, current):
        raise SignInRefusedError("wrong_password", "the current password is not right")
    credential.password_hash = hash_password(check_password(new))
    credential.updated_at = now
    session.add(credential)


def rotate_totp(*, session: Session, member: StaffMember, keys: KeyEncrypter | None, now: float) -> str:
    """A new TOTP secret for the member (the old authenticator stops working); returns its otpauth URI."""
    credential = session.get(StaffCredential, member.id)
    if credential is None:
        raise SignInRefusedError("not_custodial", f"staff member {member.id} signs in with a wallet")
    secret = new_totp_secret()
    credential.totp_sealed = seal(require_keys(keys), "totp", member, secret.encode())
    credential.last_totp_step = None
    credential.updated_at = now
    session.add(credential)
    return totp_uri(secret, account=member.login or member.address)


def reset_password(*, session: Session, member: StaffMember, now: float) -> str:
    """A new random password for the member, returned once; clears a lock-out."""
    credential = session.get(StaffCredential, member.id)
    if credential is None:
        raise SignInRefusedError("not_custodial", f"staff member {member.id} signs in with a wallet")
    password = new_password()
    credential.password_hash = hash_password(password)
    credential.failed_attempts, credential.locked_until = 0, None
    credential.updated_at = now
    session.add(credential)
    return password
