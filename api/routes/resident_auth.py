"""Residents with their own wallet: Sign-In with Ethereum (EIP-4361) → a short-lived bearer session →
their own private data (`GET /v1/residents/me`: their feedback texts, hidden ones included, and their
enrolment). Whatever is on chain stays public (`/v1/residents/{address}`, `/v1/enrolments/…`)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from indexer import enrolment_queries, resident_private
from ledger.db import read_scope
from ledger.enrolment import is_enrolled, party_name
from ledger.resident_sessions import STATEMENT, issue_nonce, resolve_session, sign_in
from ledger.siwe import challenge, origin

from ..deps import ReadSessionDep, ServicesDep, SessionDep
from ..schemas import ErrorResponse
from ._mirror import ADDRESS, Offset
from .enrolments import EnrolmentDetail

router = APIRouter(prefix="/v1/residents", tags=["residents: sign-in"])

bearer = HTTPBearer(
    scheme_name="ResidentBearer",
    description="The `token` of a resident's Sign-In with Ethereum (POST /v1/residents/siwe/verify).",
    auto_error=False,
)
PUBLIC: dict[str, Any] = {"security": []}


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


_INVALID: dict[int | str, dict[str, Any]] = {
    422: _error("A field is malformed or out of range; `field` names it.")
}
REFUSED: dict[int | str, dict[str, Any]] = _INVALID | {
    401: _error(
        "`sign_in_refused`: not an EIP-4361 message, another domain, URI or chain, expired, not yet "
        "valid, a nonce unknown, used or expired, or a signature not by the message's address."
    )
}
AUTH: dict[int | str, dict[str, Any]] = _INVALID | {
    401: _error("`not_authenticated`: no bearer token, or an unknown, expired or signed-out one.")
}


class NonceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(
        default=None, pattern=ADDRESS, description="If given, the answer includes the whole message to sign."
    )


class NonceResponse(BaseModel):
    nonce: str = Field(examples=["5f1c0b9e2a7d4c3b8e6f1a2b3c4d5e6f"])
    domain: str = Field(description="The domain the message must name.", examples=["127.0.0.1:8000"])
    uri: str = Field(description="The URI the message must name (this server's origin).")
    chainId: int = Field(ge=1)
    issuedAt: str
    expirationTime: str = Field(description="Sign and verify before this; the nonce is single-use.")
    message: str | None = Field(
        default=None, description="The EIP-4361 message for `address`, ready to sign."
    )


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(
        min_length=1, max_length=4096, description="The EIP-4361 message, exactly as signed."
    )
    signature: str = Field(
        pattern=r"^0x(?:[0-9a-fA-F]{2}){1,2048}$",
        description="personal_sign (EIP-191) of the message; a smart account's ERC-1271 signature.",
    )


class SessionResponse(BaseModel):
    token: str = Field(description="Send it as Authorization: Bearer <token>.")
    address: str = Field(pattern=ADDRESS, description="The signed-in resident.")
    expiresAt: float = Field(description="When the session ends (Unix time).")


class OwnFeedback(BaseModel):
    contentHash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="The hash on chain.")
    category: str
    content: str | None = Field(description="The text as written; null once erased.")
    erased: bool
    createdAt: float
    itemId: int | None = Field(description="The FeedbackBox item once recorded on chain, else null.")
    status: str | None = Field(description="submitted, under_review, answered, closed; null until recorded.")
    hidden: bool | None = Field(description="Hidden by a moderator (the public reads omit the text).")
    supports: int | None


class OwnFeedbackPage(BaseModel):
    items: list[OwnFeedback]
    total: int = Field(ge=0)


class MeResponse(BaseModel):
    address: str = Field(pattern=ADDRESS)
    enrolled: bool = Field(description="Counts as enrolled now (on chain, or a request in the outbox).")
    enrolment: EnrolmentDetail | None = Field(description="The on-chain enrolment record, if any.")
    feedback: OwnFeedbackPage = Field(description="Their feedback texts, newest first (limit / offset).")


@router.post("/siwe/nonce", response_model=NonceResponse, responses=_INVALID, openapi_extra=PUBLIC)
def siwe_nonce(
    services: ServicesDep, session: SessionDep, body: NonceRequest | None = None
) -> dict[str, Any]:
    """A single-use nonce for a resident's Sign-In with Ethereum message, with the fields checked."""
    now = time.time()
    settings = services.settings
    row = issue_nonce(session=session, ttl=settings.staff_siwe_nonce_ttl, now=now)
    session.commit()
    return challenge(
        nonce=row.nonce,
        expires_at=row.expires_at,
        now=now,
        domain=settings.siwe_domain,
        uri=origin(settings.staff_public_url),
        chain_id=services.deployment.chain_id,
        statement=STATEMENT,
        address=body.address if body is not None else None,
    )


@router.post("/siwe/verify", response_model=SessionResponse, responses=REFUSED, openapi_extra=PUBLIC)
def siwe_verify(body: VerifyRequest, services: ServicesDep, session: SessionDep) -> dict[str, Any]:
    """A resident's bearer session from their signed EIP-4361 message (the nonce is used up)."""
    settings = services.settings
    try:
        issued = sign_in(
            session=session,
            message=body.message,
            signature=body.signature,
            domain=settings.siwe_domain,
            public_url=settings.staff_public_url,
            chain_id=services.deployment.chain_id,
            ttl=settings.resident_session_seconds,
            now=time.time(),
            erc1271=services.erc1271_valid,
        )
    finally:
        session.commit()  # a nonce used by a refused attempt stays used
    return {"token": issued.token, "address": issued.address, "expiresAt": issued.expires_at}


def _resident(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> str:
    with read_scope(services.engine) as session:
        return resolve_session(
            session=session, token=None if credentials is None else credentials.credentials, now=time.time()
        )


Resident = Annotated[str, Depends(_resident)]


@router.get("/me", response_model=MeResponse, responses=AUTH)
def me(
    resident: Resident,
    services: ServicesDep,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Feedback page size.")] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The signed-in resident's own data: enrolment and every feedback text of theirs, hidden included."""
    conn = session.connection()
    chain_id = services.deployment.chain_id
    record = enrolment_queries.enrolment(conn, chain_id=chain_id, address=resident)
    enrolled = is_enrolled(conn, chain_id=chain_id, resident=resident)
    enrolment = None
    if record is not None:
        enrolment = record | {
            "partyName": party_name(record["party"]),
            "pending": enrolled and not record["enrolled"],
            "history": [h | {"partyName": party_name(h["party"])} for h in record["history"]],
        }
    feedback = resident_private.own_feedback(
        conn, chain_id=chain_id, resident=resident, limit=limit, offset=offset
    )
    return {"address": resident, "enrolled": enrolled, "enrolment": enrolment, "feedback": feedback}
