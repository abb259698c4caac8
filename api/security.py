"""Who a staff request is from, and whether they may: `require_staff(*roles)`.

Credentials are a session token, as the HTTP-only cookie `esg_staff_session` (pages) or as
`Authorization: Bearer <token>` (API clients); both are declared security schemes, so the OpenAPI
document shows them on every protected route. A cookie-authenticated unsafe request must repeat
the readable `esg_staff_csrf` cookie in the `X-CSRF-Token` header (double submit; the value is
derived from the session token, so another site can neither read nor forge it). Roles are read
from the mirror of the chain's RoleGranted / RoleRevoked on every request, never cached.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from indexer.staff_roles import staff_roles
from ledger.db import read_scope, session_scope
from ledger.staff import (
    CsrfError,
    IssuedSession,
    MemberKind,
    MemberStatus,
    SignInPolicy,
    StaffCredential,
    StaffForbiddenError,
    StaffMember,
    StaffNotAuthenticatedError,
    csrf_token,
    needs_touch,
    resolve_session,
    sign_typed_data,
    staff_keys,
    touch_session,
)
from ledger.staff.keys import require_keys
from ledger.staff.roles import ROLE_NAMES
from ledger.types import Address

from .deps import ServicesDep
from .services import Services

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "ROLE_NAMES",
    "SESSION_COOKIE",
    "StaffDep",
    "StaffPrincipal",
    "clear_session_cookies",
    "require_staff",
    "set_session_cookies",
    "staff_signer",
]

SESSION_COOKIE = "esg_staff_session"
CSRF_COOKIE = "esg_staff_csrf"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="StaffSessionCookie",
    description="The staff session cookie set by a sign-in (pages). Unsafe methods also need the "
    f"{CSRF_HEADER} header equal to the {CSRF_COOKIE} cookie.",
    auto_error=False,
)
bearer = HTTPBearer(
    scheme_name="StaffBearer",
    description="The `token` of a staff sign-in (POST /v1/staff/login or /v1/staff/siwe/verify).",
    auto_error=False,
)


@dataclass(frozen=True)
class StaffPrincipal:
    member_id: int
    address: Address  # checksummed; holds the member's on-chain roles
    name: str
    roles: frozenset[str]  # role names held now per the mirror
    areas: frozenset[int] | None  # area-code scope kept off-chain; None = every area
    custodial: bool  # the product holds this member's key (password + TOTP members)
    session_id: str

    def public(self) -> dict[str, Any]:
        return {
            "memberId": self.member_id,
            "address": self.address,
            "name": self.name,
            "roles": [r for r in ROLE_NAMES if r in self.roles],
            "areas": None if self.areas is None else sorted(self.areas),
            "custodial": self.custodial,
            "sessionId": self.session_id,
        }


def _credentials(
    request: Request, cookie: str | None, auth: HTTPAuthorizationCredentials | None
) -> tuple[str, bool]:
    """(token, from the cookie?); a bearer token wins over a cookie."""
    if auth is not None and auth.credentials:
        return auth.credentials, False
    if cookie:
        return cookie, True
    raise StaffNotAuthenticatedError(
        f"sign in first: a staff session cookie ({SESSION_COOKIE}) or Authorization: Bearer <token>"
    )


def _check_csrf(request: Request, token: str) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = csrf_token(token)
    if not (
        sent
        and hmac.compare_digest(sent.encode(), cookie.encode())
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfError(
            f"a cookie session's {request.method} needs the {CSRF_HEADER} header (the {CSRF_COOKIE} cookie)"
        )


def principal_for(services: Services, request: Request, token: str, *, from_cookie: bool) -> StaffPrincipal:
    """The signed-in member of `token`, their roles read from the mirror now; raises 401 / 403 errors."""
    now = time.time()
    policy = SignInPolicy.from_settings(services.settings).sessions
    with read_scope(services.engine) as session:
        row, member = resolve_session(session=session, token=token, policy=policy, now=now)
        roles = staff_roles(
            session.connection(),
            chain_id=services.deployment.chain_id,
            contracts=services.contract_addresses,
            account=member.address,
        )
    if from_cookie and request.method in _UNSAFE:
        _check_csrf(request, token)
    if member.status == MemberStatus.DEACTIVATED:
        raise StaffForbiddenError("this staff account is deactivated")
    if needs_touch(row, policy, now):
        with session_scope(services.engine) as session:
            touch_session(session=session, session_id=row.id, now=now)
    assert member.id is not None
    return StaffPrincipal(
        member_id=member.id,
        address=Address(member.address),
        name=member.name,
        roles=roles,
        areas=member.area_codes(),
        custodial=member.kind == MemberKind.CUSTODIAL,
        session_id=row.id,
    )


def require_staff(*roles: str) -> Any:
    """A dependency: the signed-in staff member, who must hold one of `roles` (any member if none)."""
    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:
        raise ValueError(f"unknown staff roles {sorted(unknown)}; the roles are {ROLE_NAMES}")
    wanted = frozenset(roles)

    def staff_member(
        request: Request,
        services: ServicesDep,
        cookie: Annotated[str | None, Security(session_cookie)] = None,
        auth: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> StaffPrincipal:
        token, from_cookie = _credentials(request, cookie, auth)
        principal = principal_for(services, request, token, from_cookie=from_cookie)
        if wanted and not principal.roles & wanted:
            needed = " or ".join(r for r in ROLE_NAMES if r in wanted)
            raise StaffForbiddenError(f"this needs the {needed} role, held on chain by {principal.address}")
        request.state.staff = principal
        return principal

    return staff_member


StaffDep = Annotated[StaffPrincipal, Depends(require_staff())]


def staff_signer(services: Services, principal: StaffPrincipal) -> Callable[[dict[str, Any]], str] | None:
    """For a custodial member: signs EIP-712 typed data with their sealed key (0x signature). None for
    wallet members, who sign for themselves."""
    if not principal.custodial:
        return None
    keys = require_keys(staff_keys(services.settings))

    def sign(typed_data: dict[str, Any]) -> str:
        with read_scope(services.engine) as session:
            member = session.get(StaffMember, principal.member_id)
            credential = session.get(StaffCredential, principal.member_id)
        if member is None or credential is None or member.status == MemberStatus.DEACTIVATED:
            raise StaffForbiddenError("this staff member can no longer sign")
        return sign_typed_data(keys, member, credential, typed_data)

    return sign


def _secure(services: Services) -> bool:
    return services.settings.staff_public_url.startswith("https://")


def set_session_cookies(response: Response, services: Services, issued: IssuedSession) -> None:
    max_age = max(1, int(issued.expires_at - time.time()))
    secure = _secure(services)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE, issued.csrf, max_age=max_age, path="/", secure=secure, httponly=False, samesite="strict"
    )


def clear_session_cookies(response: Response, services: Services) -> None:
    secure = _secure(services)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False, samesite="strict")
