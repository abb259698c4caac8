"""Staff sign-in: Sign-In with Ethereum for wallet members, password + TOTP for custodial members;
the session (cookie and bearer token), sign-out, who am I, and the sign-in log for admins."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ledger.db import read_scope
from ledger.siwe import challenge
from ledger.staff import (
    IssuedSession,
    SignInPolicy,
    StaffConflictError,
    change_password,
    get_member,
    issue_nonce,
    list_signins,
    revoke_session,
    sign_in_with_password,
    sign_in_with_siwe,
    staff_keys,
)
from ledger.staff.siwe import origin

from ..deps import ServicesDep, SessionDep
from ..schemas import ErrorResponse
from ..security import (
    StaffDep,
    StaffPrincipal,
    clear_session_cookies,
    principal_for,
    require_staff,
    set_session_cookies,
)
from ..services import Services

router = APIRouter(prefix="/v1/staff", tags=["staff"])
PUBLIC: dict[str, Any] = {"security": []}  # sign-in itself needs no credentials


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH: dict[int | str, dict[str, Any]] = {
    401: _error("No staff session or bearer token, or an expired or revoked one."),
    403: _error("Deactivated, without the role this needs, or (cookie sessions) no matching X-CSRF-Token."),
}
REFUSED: dict[int | str, dict[str, Any]] = {
    401: _error("Refused; the sign-in log says why."),
    403: _error("This staff account is deactivated."),
    429: _error("Locked after repeated failures: try again later."),
}

ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class StaffPublic(BaseModel):
    memberId: int
    address: str = Field(description="The member's own address; it holds their on-chain roles.")
    name: str
    roles: list[str] = Field(description="Role names held now on chain, per the mirror.")
    areas: list[int] | None = Field(description="Area codes the member's work is limited to; null: all.")
    custodial: bool = Field(description="True when the city holds this member's key (password + TOTP).")
    sessionId: str


class SignInResponse(BaseModel):
    token: str = Field(description="The session token: send it as Authorization: Bearer <token>.")
    tokenType: Literal["bearer"] = "bearer"
    sessionId: str
    expiresAt: float = Field(description="The absolute end of the session (Unix time); idle ends it sooner.")
    csrfToken: str = Field(description="For cookie sessions: send it as X-CSRF-Token on unsafe methods.")
    staff: StaffPublic


class NonceRequest(BaseModel):
    address: str | None = Field(
        default=None, pattern=ADDRESS, description="If given, the answer includes the whole message to sign."
    )


class NonceResponse(BaseModel):
    nonce: str
    domain: str
    uri: str
    chainId: int
    issuedAt: str
    expirationTime: str = Field(description="Sign and verify before this; the nonce is single-use.")
    message: str | None = Field(
        default=None, description="The EIP-4361 message for `address`, ready to sign."
    )


class SiweVerifyRequest(BaseModel):
    message: str = Field(
        min_length=1, max_length=4096, description="The EIP-4361 message, exactly as signed."
    )
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{2,4096}$", description="personal_sign (EIP-191) of it.")


class LoginRequest(BaseModel):
    # exactly one of `login` and `address` (the validator below), as the schema says it
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["login"], "properties": {"login": {"type": "string"}}},
                {"required": ["address"], "properties": {"address": {"type": "string"}}},
            ]
        }
    )

    login: str | None = Field(
        default=None, min_length=1, max_length=200, description="Login name or address."
    )
    address: str | None = Field(default=None, pattern=ADDRESS, description="Instead of `login`.")
    password: SecretStr = Field(min_length=1, max_length=1024)
    totp: str = Field(pattern=r"^[0-9]{6}$", description="The authenticator app's current 6-digit code.")

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginRequest:
        if (self.login is None) == (self.address is None):
            raise ValueError("give `login` or `address`")
        return self


class PasswordChange(BaseModel):
    current: SecretStr = Field(min_length=1, max_length=1024)
    new: SecretStr = Field(min_length=12, max_length=1024)


class SignInPublic(BaseModel):
    id: int
    at: float
    memberId: int | None
    identifier: str = Field(description="The address or login the attempt named.")
    method: Literal["siwe", "password"]
    outcome: Literal["success", "failure"]
    reason: str = Field(
        description="ok, or why not: wrong_password, wrong_totp, replayed_totp, locked_out, …"
    )
    clientIp: str | None


class SignInPage(BaseModel):
    items: list[SignInPublic]
    total: int


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _signed_in(
    services: Services, request: Request, response: Response, issued: IssuedSession
) -> dict[str, Any]:
    set_session_cookies(response, services, issued)
    principal = principal_for(services, request, issued.token, from_cookie=False)
    return {
        "token": issued.token,
        "tokenType": "bearer",
        "sessionId": issued.id,
        "expiresAt": issued.expires_at,
        "csrfToken": issued.csrf,
        "staff": principal.public(),
    }


@router.post("/siwe/nonce", response_model=NonceResponse, openapi_extra=PUBLIC)
def siwe_nonce(
    services: ServicesDep, session: SessionDep, body: NonceRequest | None = None
) -> dict[str, Any]:
    """A single-use nonce for a Sign-In with Ethereum message, with the fields this server checks."""
    now = time.time()
    row = issue_nonce(session=session, ttl=services.settings.staff_siwe_nonce_ttl, now=now)
    session.commit()
    settings = services.settings
    return challenge(
        nonce=row.nonce,
        expires_at=row.expires_at,
        now=now,
        domain=settings.siwe_domain,
        uri=origin(settings.staff_public_url),
        chain_id=services.deployment.chain_id,
        statement="Sign in to the ESG participation ledger as staff.",
        address=body.address if body is not None else None,
    )


@router.post("/siwe/verify", response_model=SignInResponse, responses=REFUSED, openapi_extra=PUBLIC)
def siwe_verify(
    body: SiweVerifyRequest, request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Signs a wallet member in with their signed EIP-4361 message; sets the session cookies."""
    settings = services.settings
    _member, issued = sign_in_with_siwe(
        session=session,
        message=body.message,
        signature=body.signature,
        domain=settings.siwe_domain,
        public_url=settings.staff_public_url,
        chain_id=services.deployment.chain_id,
        policy=SignInPolicy.from_settings(settings),
        now=time.time(),
        client_ip=_client_ip(request),
        erc1271=services.erc1271_valid,
    )
    return _signed_in(services, request, response, issued)


@router.post("/login", response_model=SignInResponse, responses=REFUSED, openapi_extra=PUBLIC)
def login(
    body: LoginRequest, request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Signs a custodial member in with password + TOTP; sets the session cookies."""
    settings = services.settings
    _member, issued = sign_in_with_password(
        session=session,
        identifier=body.login or body.address or "",
        password=body.password.get_secret_value(),
        totp_code=body.totp,
        keys=staff_keys(settings),
        policy=SignInPolicy.from_settings(settings),
        now=time.time(),
        client_ip=_client_ip(request),
    )
    return _signed_in(services, request, response, issued)


@router.post("/logout", status_code=204, responses=AUTH)
def logout(principal: StaffDep, services: ServicesDep, session: SessionDep) -> Response:
    """Ends this session (its token stops working at once) and clears the cookies."""
    revoke_session(session=session, session_id=principal.session_id, now=time.time())
    session.commit()
    response = Response(status_code=204)
    clear_session_cookies(response, services)
    return response


@router.get("/me", response_model=StaffPublic, responses=AUTH)
def me(principal: StaffDep) -> dict[str, Any]:
    """The signed-in member: address, name, roles held now on chain, area scope, custodial or not."""
    return principal.public()


@router.post("/password", status_code=204, responses=AUTH | {409: _error("A wallet member has no password.")})
def password(body: PasswordChange, principal: StaffDep, session: SessionDep) -> Response:
    """A custodial member changes their password (the current one is asked again)."""
    if not principal.custodial:
        raise StaffConflictError("wallet members sign in with their wallet and have no password")
    change_password(
        session=session,
        member=get_member(session=session, member_id=principal.member_id),
        current=body.current.get_secret_value(),
        new=body.new.get_secret_value(),
        now=time.time(),
    )
    session.commit()
    return Response(status_code=204)


Admin = Annotated[StaffPrincipal, Depends(require_staff("admin"))]


@router.get("/signins", response_model=SignInPage, responses=AUTH)
def signins(
    _admin: Admin,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    member_id: Annotated[int | None, Query(alias="memberId", ge=1)] = None,
    outcome: Annotated[Literal["success", "failure"] | None, Query()] = None,
    method: Annotated[Literal["siwe", "password"] | None, Query()] = None,
) -> dict[str, Any]:
    """Every staff sign-in and failed attempt, newest first (admins)."""
    with read_scope(services.engine) as session:
        rows, total = list_signins(
            session=session, limit=limit, offset=offset, member_id=member_id, outcome=outcome, method=method
        )
    items = [
        {
            "id": r.id,
            "at": r.at,
            "memberId": r.member_id,
            "identifier": r.identifier,
            "method": r.method,
            "outcome": r.outcome,
            "reason": r.reason,
            "clientIp": r.client_ip,
        }
        for r in rows
    ]
    return {"items": items, "total": total}
