"""Staff members: invite (a wallet address, or a custodial key made here), activate, deactivate,
area scopes. Each change is a `staff_member_event` row naming who made it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_hex_address, to_checksum_address
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..custody import KeyEncrypter
from .errors import StaffConflictError, StaffError, StaffNotFoundError
from .keys import require_keys, seal
from .models import MemberKind, MemberStatus, StaffCredential, StaffMember, StaffMemberEvent
from .passwords import check_password, hash_password, new_password, new_totp_secret, totp_uri
from .sessions import revoke_member_sessions

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MAX_AREAS = 256


@dataclass(frozen=True)
class Invitation:
    """A new member, and for a custodial one the secrets to hand over once: the initial password and
    the otpauth:// URI for an authenticator app. Neither is stored in the clear."""

    member: StaffMember
    password: str | None = None
    totp_uri: str | None = None


def _areas(areas: Iterable[int] | None) -> str | None:
    if areas is None:
        return None
    codes = sorted({int(a) for a in areas})
    if len(codes) > MAX_AREAS or any(not 0 <= a < 2**32 for a in codes):
        raise StaffError(f"area codes are uint32 values, at most {MAX_AREAS} of them")
    return json.dumps(codes)


def _codes(member: StaffMember) -> list[int] | None:
    codes = member.area_codes()
    return None if codes is None else sorted(codes)


def _event(session: Session, member: StaffMember, action: str, actor: str, now: float, **detail: Any) -> None:
    assert member.id is not None
    session.add(
        StaffMemberEvent(at=now, member_id=member.id, action=action, actor=actor, detail=json.dumps(detail))
    )


def invite_member(
    *,
    session: Session,
    name: str,
    created_by: str,
    now: float,
    address: str | None = None,
    login: str | None = None,
    areas: Iterable[int] | None = None,
    keys: KeyEncrypter | None = None,
    password: str | None = None,
    account: LocalAccount | None = None,
    totp_secret: str | None = None,
) -> Invitation:
    """A new member with their own wallet (`address`), or custodial (no address: a key is generated
    and sealed, or `account` is used; a `login` name, a password and a TOTP secret are set, random
    unless given). Flushes; the caller commits."""
    name = name.strip()
    if not name or len(name) > 200:
        raise StaffError("a staff member needs a name (at most 200 characters)")
    custodial = address is None
    if custodial:
        keys = require_keys(keys)
        account = account or Account.create()
        address = account.address
        if login is None or not _LOGIN.match(login):
            raise StaffError("a custodial member needs a login name: 3-64 of a-z, 0-9, '.', '_', '-'")
    elif not is_hex_address(address):
        raise StaffError(f"not an address: {address!r}")
    assert address is not None
    address = to_checksum_address(address)
    if session.exec(select(StaffMember).where(StaffMember.address == address)).first() is not None:
        raise StaffConflictError(f"{address} is already a staff member")
    if login is not None and session.exec(select(StaffMember).where(StaffMember.login == login)).first():
        raise StaffConflictError(f"the login {login!r} is taken")
    member = StaffMember(
        name=name,
        address=address,
        login=login,
        kind=MemberKind.CUSTODIAL if custodial else MemberKind.WALLET,
        status=MemberStatus.INVITED,
        areas=_areas(areas),
        created_at=now,
        created_by=created_by,
    )
    session.add(member)
    session.flush()  # the id is part of the sealed secrets' associated data
    _event(session, member, "invited", created_by, now, kind=member.kind, areas=_codes(member))
    if not custodial:
        return Invitation(member)
    assert keys is not None and account is not None and member.id is not None
    password = check_password(password) if password is not None else new_password()
    secret = totp_secret or new_totp_secret()
    session.add(
        StaffCredential(
            member_id=member.id,
            password_hash=hash_password(password),
            totp_sealed=seal(keys, "totp", member, secret.encode()),
            key_sealed=seal(keys, "key", member, bytes(account.key)),
            key_id=keys.key_id,
            updated_at=now,
        )
    )
    session.flush()
    return Invitation(member, password, totp_uri(secret, account=login or address))


def get_member(*, session: Session, member_id: int) -> StaffMember:
    member = session.get(StaffMember, member_id)
    if member is None:
        raise StaffNotFoundError(f"no staff member {member_id}")
    return member


def list_members(
    *, session: Session, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[StaffMember], int]:
    query = select(StaffMember)
    count = select(func.count()).select_from(StaffMember)
    if status is not None:
        query = query.where(StaffMember.status == status)
        count = count.where(col(StaffMember.status) == status)
    rows = session.exec(query.order_by(col(StaffMember.id)).offset(offset).limit(limit)).all()
    return list(rows), int(session.exec(count).one())


def activate_member(*, session: Session, member_id: int, by: str, now: float) -> StaffMember:
    """Invited → active (a first sign-in does this too), or a deactivated member back to active."""
    member = get_member(session=session, member_id=member_id)
    if member.status != MemberStatus.ACTIVE:
        member.status = MemberStatus.ACTIVE
        member.activated_at = now
        member.deactivated_at = None
        session.add(member)
        _event(session, member, "activated", by, now)
    return member


def deactivate_member(*, session: Session, member_id: int, by: str, now: float) -> tuple[StaffMember, int]:
    """No more sign-ins, and every live session of the member revoked; returns (member, sessions
    revoked). On-chain roles are the admin's to revoke as well (the API refuses them meanwhile)."""
    member = get_member(session=session, member_id=member_id)
    revoked = revoke_member_sessions(session=session, member_id=member_id, now=now)
    if member.status != MemberStatus.DEACTIVATED:
        member.status = MemberStatus.DEACTIVATED
        member.deactivated_at = now
        session.add(member)
        _event(session, member, "deactivated", by, now, sessions_revoked=revoked)
    return member, revoked


def set_areas(
    *, session: Session, member_id: int, areas: Iterable[int] | None, by: str, now: float
) -> StaffMember:
    """Limits the member's reviews and verifications to these area codes (None: every area)."""
    member = get_member(session=session, member_id=member_id)
    member.areas = _areas(areas)
    session.add(member)
    _event(session, member, "areas_set", by, now, areas=_codes(member))
    return member


def member_events(*, session: Session, member_id: int) -> list[StaffMemberEvent]:
    query = select(StaffMemberEvent).where(StaffMemberEvent.member_id == member_id)
    return list(session.exec(query.order_by(col(StaffMemberEvent.id))).all())
