"""Signing in (SIWE, or password + TOTP) and the sign-in log: every success and every failure is a
`staff_signin_log` row with its reason, committed even when the attempt is refused."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..custody import KeyEncrypter
from ..settings import Settings
from .errors import SignInRefusedError, StaffError, StaffForbiddenError, StaffLockedError
from .members import activate_member
from .models import MemberStatus, SignInMethod, StaffMember, StaffSignIn
from .passwords import LockoutPolicy, find_member, password_sign_in
from .sessions import IssuedSession, SessionPolicy, create_session
from .siwe import Erc1271, SiweMessage, check_message, consume_nonce, signature_ok


@dataclass(frozen=True)
class SignInPolicy:
    sessions: SessionPolicy
    lockout: LockoutPolicy
    nonce_ttl: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInPolicy:
        return cls(
            sessions=SessionPolicy(
                idle=settings.staff_session_idle, absolute=settings.staff_session_absolute
            ),
            lockout=LockoutPolicy(
                failures=settings.staff_lockout_failures, seconds=settings.staff_lockout_seconds
            ),
            nonce_ttl=settings.staff_siwe_nonce_ttl,
        )


def _printable(text: str, limit: int = 200) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def record_signin(
    *,
    session: Session,
    method: str,
    outcome: str,
    reason: str,
    identifier: str,
    now: float,
    member_id: int | None = None,
    client_ip: str | None = None,
) -> StaffSignIn:
    row = StaffSignIn(
        at=now,
        member_id=member_id,
        identifier=_printable(identifier),
        method=method,
        outcome=outcome,
        reason=reason[:64],
        client_ip=None if client_ip is None else client_ip[:64],
    )
    session.add(row)
    return row


def list_signins(
    *,
    session: Session,
    limit: int = 50,
    offset: int = 0,
    member_id: int | None = None,
    outcome: str | None = None,
    method: str | None = None,
) -> tuple[list[StaffSignIn], int]:
    """Newest first, with the number of rows the filters match."""
    where = []
    if member_id is not None:
        where.append(col(StaffSignIn.member_id) == member_id)
    if outcome is not None:
        where.append(col(StaffSignIn.outcome) == outcome)
    if method is not None:
        where.append(col(StaffSignIn.method) == method)
    rows = session.exec(
        select(StaffSignIn).where(*where).order_by(col(StaffSignIn.id).desc()).offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(StaffSignIn).where(*where)).one()
    return list(rows), int(total)


def _admit(
    session: Session,
    member: StaffMember,
    *,
    method: SignInMethod,
    identifier: str,
    policy: SignInPolicy,
    now: float,
    client_ip: str | None,
) -> IssuedSession:
    assert member.id is not None
    if member.status == MemberStatus.DEACTIVATED:
        raise StaffForbiddenError("this staff account is deactivated")
    if member.status == MemberStatus.INVITED:
        activate_member(session=session, member_id=member.id, by="self (first sign-in)", now=now)
    issued = create_session(
        session=session, member=member, method=method, policy=policy.sessions, now=now, client_ip=client_ip
    )
    record_signin(
        session=session,
        method=method,
        outcome="success",
        reason="ok",
        identifier=identifier,
        member_id=member.id,
        client_ip=client_ip,
        now=now,
    )
    session.commit()
    return issued


def _refused(
    session: Session,
    exc: StaffError,
    *,
    method: SignInMethod,
    identifier: str,
    member: StaffMember | None,
    now: float,
    client_ip: str | None,
) -> None:
    """Keeps what the attempt changed (failure counters) and logs it, then the caller re-raises."""
    reason = (
        exc.reason
        if isinstance(exc, SignInRefusedError)
        else "locked_out"
        if isinstance(exc, StaffLockedError)
        else "deactivated"
        if isinstance(exc, StaffForbiddenError)
        else exc.code
    )
    record_signin(
        session=session,
        method=method,
        outcome="failure",
        reason=reason,
        identifier=identifier,
        member_id=None if member is None else member.id,
        client_ip=client_ip,
        now=now,
    )
    session.commit()


def sign_in_with_password(
    *,
    session: Session,
    identifier: str,
    password: str,
    totp_code: str,
    keys: KeyEncrypter | None,
    policy: SignInPolicy,
    now: float,
    client_ip: str | None = None,
) -> tuple[StaffMember, IssuedSession]:
    """A custodial member's session; commits (a refusal is logged and counted before it is raised)."""
    member: StaffMember | None = None
    try:
        member = password_sign_in(
            session=session,
            identifier=identifier,
            password=password,
            totp_code=totp_code,
            keys=keys,
            policy=policy.lockout,
            now=now,
        )
        issued = _admit(
            session,
            member,
            method=SignInMethod.PASSWORD,
            identifier=identifier,
            policy=policy,
            now=now,
            client_ip=client_ip,
        )
        return member, issued
    except (SignInRefusedError, StaffLockedError, StaffForbiddenError) as exc:
        member = member or find_member(session, identifier)
        _refused(
            session,
            exc,
            method=SignInMethod.PASSWORD,
            identifier=identifier,
            member=member,
            now=now,
            client_ip=client_ip,
        )
        raise


def sign_in_with_siwe(
    *,
    session: Session,
    message: str,
    signature: str,
    domain: str,
    public_url: str,
    chain_id: int,
    policy: SignInPolicy,
    now: float,
    client_ip: str | None = None,
    erc1271: Erc1271 | None = None,
) -> tuple[StaffMember, IssuedSession]:
    """A wallet member's session from a signed EIP-4361 message; commits, a refusal logged first."""
    identifier = "(unreadable message)"
    member: StaffMember | None = None
    try:
        parsed = SiweMessage.parse(message)
        identifier = parsed.address
        member = find_member(session, parsed.address)
        check_message(parsed, domain=domain, public_url=public_url, chain_id=chain_id, now=now)
        if not signature_ok(message, parsed.address, signature, erc1271):
            raise SignInRefusedError("bad_signature", "the signature is not by the message's address")
        if not consume_nonce(session=session, nonce=parsed.nonce, now=now):
            raise SignInRefusedError("bad_nonce", "the nonce is unknown, used or expired: ask for a new one")
        if member is None:
            raise SignInRefusedError("not_staff", "this address is not a staff member")
        issued = _admit(
            session,
            member,
            method=SignInMethod.SIWE,
            identifier=to_checksum_address(parsed.address),
            policy=policy,
            now=now,
            client_ip=client_ip,
        )
        return member, issued
    except (SignInRefusedError, StaffForbiddenError) as exc:
        _refused(
            session,
            exc,
            method=SignInMethod.SIWE,
            identifier=identifier,
            member=member,
            now=now,
            client_ip=client_ip,
        )
        raise
