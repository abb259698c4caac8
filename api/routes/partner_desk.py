"""The partner desk: a shop previews and accepts a resident's redemption request (the QR payload),
and reads its own registry entry, redemptions and settlement. Every route takes a partner API key
in the X-Partner-Key header (ledger/partners)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from indexer import partner_queries
from ledger.db import read_scope, session_scope
from ledger.errors import ActionError
from ledger.kinds import VerifiedAction
from ledger.outbox import get_action
from ledger.partners import (
    SCOPE_ACCEPT,
    SCOPE_READ,
    Checked,
    check_on_chain,
    record_acceptance,
    verify_request,
)
from ledger.redemption_requests import MAX_REQUEST_CHARS, PREFIX

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import ErrorResponse, PartnerPublic
from ..services import Services
from ._mirror import INT64_MAX, Limit, Offset
from ._partner import KEY_AUTH, AnyPartner, PartnerKeyPublic, PartnerPrincipal, desk_chain, require_partner

router = APIRouter(prefix="/v1/partner", tags=["partner desk"])

Acceptor = Annotated[PartnerPrincipal, Depends(require_partner(SCOPE_ACCEPT))]
Reader = Annotated[PartnerPrincipal, Depends(require_partner(SCOPE_READ))]

_EXAMPLE_REQUEST = PREFIX + "AAAAAAAAemk" + "A" * 260
_REFUSED: dict[int | str, dict[str, Any]] = KEY_AUTH | {
    403: {
        "model": ErrorResponse,
        "description": "The key lacks `redemptions:accept` (`insufficient_scope`), or the redemption is "
        "for another partner (`wrong_partner`).",
    },
    409: {
        "model": ErrorResponse,
        "description": "The request's deadline passed (`invalid_action`, `field` request.deadline).",
    },
    422: {
        "model": ErrorResponse,
        "description": "Not a redemption request, or one altered since it was signed: a malformed payload "
        "(`invalid_action`), a signature that is not the resident's (`invalid_signature`), a request for "
        "another deployment; or one the chain would refuse now (`redemption_refused`: the resident's "
        "balance, a used nonce, the partner's registration), `field` naming the part at fault.",
    },
    429: {"model": ErrorResponse, "description": "The resident's rate limit or daily cap."},
}


class RedemptionRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str = Field(
        min_length=len(PREFIX) + 1,
        max_length=MAX_REQUEST_CHARS,
        pattern=r"^esg:redeem:v1:[A-Za-z0-9_-]+$",
        description="The resident's redemption request, as their QR code shows it.",
        examples=[_EXAMPLE_REQUEST],
    )


class AcceptedRedemption(BaseModel):
    id: str = Field(description="The action's id (its EIP-712 digest): GET /v1/actions/{id}.")
    status: str = Field(json_schema_extra={"enum": list(partner_queries.REDEMPTION_STATUSES)})


class Refusal(BaseModel):
    code: str = Field(examples=["redemption_refused"])
    message: str
    field: str | None


class RedemptionPreview(BaseModel):
    """What the shop's screen shows before the clerk accepts: nothing is recorded."""

    id: str = Field(description="The action's id (its EIP-712 digest).")
    resident: str
    partner: str
    amount: int = Field(description="Points to redeem.")
    offerHash: str
    nonce: int
    deadline: int = Field(description="Unix seconds: accept before this.")
    balance: int = Field(description="The resident's points on chain now.")
    acceptable: bool = Field(description="Accepting it now would answer 202.")
    refusal: Refusal | None = Field(description="Why the chain would not record it now, if it would not.")
    action: AcceptedRedemption | None = Field(description="Already accepted: where it stands.")


class PartnerMe(PartnerPublic):
    """The partner's registry entry (as GET /v1/partners lists it) and the key in use."""

    key: PartnerKeyPublic


class PartnerRedemptionItem(BaseModel):
    id: str = Field(description="The action's id (its EIP-712 digest).")
    resident: str
    amount: int
    offerHash: str
    status: str = Field(json_schema_extra={"enum": list(partner_queries.REDEMPTION_STATUSES)})
    burned: bool | None = Field(description="On chain: the points were burned; null until recorded.")
    txHash: str | None
    blockNumber: int | None
    logIndex: int | None
    error: str | None = Field(description="Why it failed, when it did.")
    acceptedAt: float | None = Field(description="Unix seconds; null for a record from outside the outbox.")
    keyId: str | None = Field(description="The key that accepted it at the desk, if one did.")


class PartnerRedemptionPage(BaseModel):
    items: list[PartnerRedemptionItem]
    total: int


class Totals(BaseModel):
    count: int
    amount: int = Field(description="Points.")


class SettlementDay(BaseModel):
    day: str = Field(description="The local date, YYYY-MM-DD.", examples=["2025-05-01"])
    confirmed: Totals
    pending: Totals
    failed: Totals


class Settlement(BaseModel):
    partner: str
    from_: int | None = Field(alias="from", description="Period start (unix seconds), inclusive.")
    to: int | None = Field(description="Period end (unix seconds), exclusive.")
    utcOffsetMinutes: int
    confirmed: Totals = Field(description="Recorded on chain.")
    pending: Totals = Field(description="Accepted, queued or submitted, not yet recorded.")
    failed: Totals = Field(description="Accepted, then refused on chain.")
    days: list[SettlementDay] = Field(description="Per local day with redemptions, oldest first.")


StatusQuery = Annotated[
    Literal["queued", "submitted", "confirmed", "failed"] | None, Query(description="Only these.")
]
FromQuery = Annotated[
    int | None, Query(alias="from", ge=0, le=INT64_MAX, description="Unix seconds, inclusive.")
]
ToQuery = Annotated[int | None, Query(alias="to", ge=0, le=INT64_MAX, description="Unix seconds, exclusive.")]


def _checked(services: Services, principal: PartnerPrincipal, request: str) -> tuple[Checked, str | None]:
    """The request verified as submit verifies it, and checked on chain; the stored action's status
    when it was accepted before."""
    chain = desk_chain(services)
    action = verify_request(request, partner=principal.partner, chain=chain)
    with read_scope(services.engine) as session:
        existing = get_action(session=session, action_id=action.id)
        status = None if existing is None else existing.status
    return check_on_chain(action, chain=chain), status


def _record(services: Services, principal: PartnerPrincipal, action: VerifiedAction) -> None:
    with session_scope(services.engine) as session:
        record_acceptance(
            session=session,
            action=action,
            chain_id=services.deployment.chain_id,
            key_id=principal.key_id,
            now=time.time(),
        )


@router.post("/redemptions/preview", response_model=RedemptionPreview, responses=_REFUSED)
async def preview(body: RedemptionRequestBody, principal: Acceptor, services: ServicesDep) -> dict[str, Any]:
    """Decodes and checks a redemption request as accepting would, and records nothing."""
    checked, status = await run_in_threadpool(_checked, services, principal, body.request)
    m, refusal = checked.action.message, checked.refusal
    return {
        "id": checked.action.id,
        **{k: m[k] for k in ("resident", "partner", "amount", "offerHash", "nonce", "deadline")},
        "balance": checked.balance,
        "acceptable": status is not None or refusal is None,
        "refusal": None
        if refusal is None or status is not None
        else {"code": refusal.code, "message": refusal.message, "field": refusal.field},
        "action": None if status is None else {"id": checked.action.id, "status": status},
    }


@router.post("/redemptions", status_code=202, response_model=AcceptedRedemption, responses=_REFUSED)
async def accept(body: RedemptionRequestBody, principal: Acceptor, services: ServicesDep) -> dict[str, Any]:
    """Accepts a resident's redemption request into the outbox; the same request twice is one action."""
    checked, status = await run_in_threadpool(_checked, services, principal, body.request)
    if status is None:
        if checked.refusal is not None:
            raise checked.refusal
        stored = (await services.accept_queue.accept_async([checked.action]))[0]
        if isinstance(stored, ActionError):
            raise stored
        status = stored.status
    await run_in_threadpool(_record, services, principal, checked.action)
    return {"id": checked.action.id, "status": status}


_NOT_IN_MIRROR: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "The key's partner is not in the mirror (yet)."}
}


@router.get("/me", response_model=PartnerMe, responses=KEY_AUTH | _NOT_IN_MIRROR)
def me(principal: AnyPartner, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """The key's partner as the registry has it (the mirror), and the key itself."""
    entry = partner_queries.partner_entry(
        session.connection(),
        chain_id=services.deployment.chain_id,
        partner=principal.partner,
        now=int(time.time()),
    )
    if entry is None:
        raise HTTPException(404, f"{principal.partner} is not in the mirror's partner registry")
    return entry | {"key": principal.public}


@router.get("/redemptions", response_model=PartnerRedemptionPage, responses=KEY_AUTH)
def redemptions(
    principal: Reader,
    services: ServicesDep,
    session: ReadSessionDep,
    status: StatusQuery = None,
    since: FromQuery = None,
    until: ToQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The partner's redemptions, newest first: status and transaction, from the outbox and the mirror."""
    return partner_queries.partner_redemptions(
        session.connection(),
        chain_id=services.deployment.chain_id,
        partner=principal.partner,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


@router.get("/settlement", response_model=Settlement, responses=KEY_AUTH, response_model_by_alias=True)
def settlement(
    principal: Reader,
    services: ServicesDep,
    session: ReadSessionDep,
    since: FromQuery = None,
    until: ToQuery = None,
    utc_offset: Annotated[
        int, Query(alias="utcOffsetMinutes", ge=-720, le=840, description="Local days' offset from UTC.")
    ] = 540,
) -> dict[str, Any]:
    """Redeemed points and counts, confirmed vs pending vs failed, over a period and per local day."""
    return partner_queries.partner_settlement(
        session.connection(),
        chain_id=services.deployment.chain_id,
        partner=principal.partner,
        since=since,
        until=until,
        utc_offset_minutes=utc_offset,
    )
