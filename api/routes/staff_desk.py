"""Desk mode: a staff member with the `enroller` role acts for a resident who has no device, with
their consent, and the act is logged as assisted (ledger/desk.py).

`POST /v1/staff/desk/actions` names the resident by the desk's own reference (a case number). On
first use the desk's custodial wallet for them is created (subject `desk:<reference>`, owned by the
reserved platform id `desk`, which no platform token reaches). A resident nobody enrolled yet is
enrolled in the same call by the member (their own EnrolmentRegistry.enrol, party `desk:assisted`,
the consent hash as evidence), so the chain names the member as the enroller; this needs a custodial
member (password + TOTP, the product signs for them). A wallet member signs that enrolment
themselves (POST /v1/staff/enrolments) first: under ESG_ENROLMENT_POLICY=enrolled they are refused
with `not_enrolled` until then. The action is then prepared, signed with the resident's custodial
key and accepted through `ledger.custody.sign_for`, with every check any action has."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ledger.custody import ActingContext, KeyEncrypter, sign_for
from ledger.db import read_scope, session_scope
from ledger.desk import (
    DESK_PARTY,
    DESK_PLATFORM_ID,
    REFERENCE_PATTERN,
    desk_subject,
    desk_wallet,
    list_assisted,
    record_assisted,
)
from ledger.enrolment import CONTRACT, is_enrolled, party_code
from ledger.errors import ActionError, NotEnrolledError
from ledger.kinds import KINDS

from ..deps import ServicesDep
from ..platform_deps import Acting, Keys
from ..schemas import ErrorResponse
from ..security import StaffPrincipal, require_staff
from ..services import Services
from ..staff_calls import act
from ._staff import AUTH, HEX32, bytes32

router = APIRouter(prefix="/v1/staff/desk", tags=["staff: desk"])

Enroller = Annotated[StaffPrincipal, Depends(require_staff("enroller"))]
Reader = Annotated[StaffPrincipal, Depends(require_staff("enroller", "auditor", "admin"))]
DESK_KINDS = frozenset(KINDS)


class DeskResident(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reference: str = Field(
        pattern=REFERENCE_PATTERN,
        description="The desk's own id for the person (e.g. a service-desk case number); the same "
        "reference is the same resident and wallet every time.",
        examples=["case-2026-00042"],
    )


class DeskActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    resident: DeskResident
    kind: str = Field(
        pattern=r"^[a-z_]{1,32}$", description="plogging, feedback, support, redemption, donation, claim."
    )
    payload: dict[str, Any] = Field(description="The kind's payload, as POST /v1/actions/prepare takes it.")
    consentHash: str = Field(
        pattern=HEX32,
        description="keccak256 of the resident's signed consent form (kept off chain by the desk); also "
        "the evidence of an enrolment made in this call.",
        examples=["0x" + "c0" * 32],
    )


class DeskActionResponse(BaseModel):
    id: str = Field(description="The action's EIP-712 digest (GET /v1/actions/{id}).")
    status: str
    resident: str = Field(description="The resident's custodial address, held by the desk.")
    reference: str
    enrolmentId: str | None = Field(
        default=None, description="The enrolment queued in this call (GET /v1/actions/{id}), if any."
    )


class AssistedItem(BaseModel):
    actionId: str
    resident: str
    reference: str
    staffMemberId: int
    staffAddress: str
    consentHash: str
    kind: str
    enrolmentId: str | None
    createdAt: float


class AssistedPage(BaseModel):
    items: list[AssistedItem]
    total: int


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


_ACTS: dict[int | str, dict[str, Any]] = AUTH | {
    403: _error(
        "The member does not hold `enroller`, is deactivated, (cookie sessions) the CSRF header is "
        "missing; or the resident is not enrolled under ESG_ENROLMENT_POLICY=enrolled and the member "
        "is a wallet member (`not_enrolled`: sign the enrolment at POST /v1/staff/enrolments first)."
    ),
    409: _error(
        "The action conflicts with the ledger's state (`invalid_action`), or the chain refuses the "
        "enrolment (`call_reverts`)."
    ),
    429: _error("The resident's rate limit or daily cap (`rate_limited`)."),
    503: _error("Custody is not configured (`custody_unavailable`), or the node is unavailable."),
}


def _wallet(services: Services, keys: KeyEncrypter, reference: str) -> tuple[str, bool]:
    """(the desk's wallet address for the reference, enrolled per mirror or outbox?)."""
    with session_scope(services.engine) as session:
        wallet, _ = desk_wallet(session=session, reference=reference, keys=keys)
        address = wallet.address
    with read_scope(services.engine) as session:
        enrolled = is_enrolled(session.connection(), chain_id=services.deployment.chain_id, resident=address)
    return address, enrolled


def _sign_and_accept(
    services: Services,
    ctx: ActingContext,
    keys: KeyEncrypter,
    principal: StaffPrincipal,
    body: DeskActionRequest,
    enrolment_id: str | None,
) -> dict[str, Any]:
    reference = body.resident.reference
    with session_scope(services.engine) as session:
        signed = sign_for(
            session=session,
            ctx=ctx,
            keys=keys,
            platform_id=DESK_PLATFORM_ID,
            allowed_kinds=DESK_KINDS,
            subject=desk_subject(reference),
            kind_name=body.kind,
            payload=body.payload,
            now=int(time.time()),
        )
    stored = services.accept_queue.accept([signed.action])[0]
    if isinstance(stored, ActionError):
        raise stored
    resident = str(signed.action.resident)
    with session_scope(services.engine) as session:
        record_assisted(
            session=session,
            action_id=stored.id,
            resident=resident,
            reference=reference,
            staff_member_id=principal.member_id,
            staff_address=principal.address,
            consent_hash=body.consentHash,
            kind=body.kind,
            enrolment_id=enrolment_id,
        )
    return {
        "id": stored.id,
        "status": stored.status,
        "resident": resident,
        "reference": reference,
        "enrolmentId": enrolment_id,
    }


@router.post("/actions", status_code=202, response_model=DeskActionResponse, responses=_ACTS)
async def act_for_resident(
    principal: Enroller, body: DeskActionRequest, services: ServicesDep, keys: Keys, acting: Acting
) -> dict[str, Any]:
    """Acts for the resident the desk knows as `resident.reference`, signed with their custodial key;
    enrols them first (a custodial member, in this call) if nobody has; logs the act as assisted."""
    reference = body.resident.reference
    address, enrolled = await run_in_threadpool(_wallet, services, keys, reference)
    enrolment_id = None
    if not enrolled:
        if principal.custodial:
            args = [address, party_code(DESK_PARTY), bytes32(body.consentHash)]
            queued = await act(services, principal, contract=CONTRACT, function="enrol", args=args)
            enrolment_id = queued.get("id")
        elif services.settings.enrolment_policy == "enrolled":
            raise NotEnrolledError(
                f"{address} (desk reference {reference!r}) is not enrolled: sign its enrolment first "
                f'(POST /v1/staff/enrolments {{"resident": "{address}", "party": "{DESK_PARTY}", '
                f'"evidenceHash": <the consent hash>}}), then act again',
                field="resident.reference",
            )
    return await run_in_threadpool(_sign_and_accept, services, acting, keys, principal, body, enrolment_id)


@router.get("/actions", response_model=AssistedPage, responses=AUTH)
def assisted_log(
    _: Reader,
    services: ServicesDep,
    reference: Annotated[
        str | None, Query(pattern=REFERENCE_PATTERN, description="Only this desk reference.")
    ] = None,
    staff: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this staff member id.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The assisted-action log, newest first: who acted for whom, with which consent, and what."""
    with read_scope(services.engine) as session:
        page = list_assisted(
            session=session, reference=reference, staff_member_id=staff, limit=limit, offset=offset
        )
    return {"items": page.items, "total": page.total}
