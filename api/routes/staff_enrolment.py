"""Service-desk enrolment: staff with the `enroller` role enrol residents who come to a desk (with the
hash of their signed consent form and the desk's party code), in bulk, and withdraw an enrolment
(erasure, a mistake). Each is the member's own call of EnrolmentRegistry, relayed (api/staff_calls.py):
the chain's ResidentEnrolled names the member's address as the enroller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from ledger.enrolment import CONTRACT, PARTY_PATTERN, party_code

from ..deps import ServicesDep
from ..security import StaffPrincipal, require_staff
from ._staff import ACTS, ADDRESS, HEX32, UINT16_MAX, StaffActionResponse, bytes32, call

router = APIRouter(prefix="/v1/staff/enrolments", tags=["staff: enrolment"])

Enroller = Annotated[StaffPrincipal, Depends(require_staff("enroller"))]
# A staff request may use at most 500,000 gas (ledger.kinds.staff.MAX_REQUEST_GAS); an enrolment costs
# about 49,000 (docs/contracts.md), so a bulk is a handful of residents per signed request.
MAX_BULK = 6

_PARTY = Field(
    pattern=PARTY_PATTERN,
    min_length=1,
    max_length=32,
    description="The accountable party's code, recorded on chain as bytes32 text: the desk's own code.",
    examples=["desk:suwon-city-hall"],
)
_EVIDENCE = Field(
    pattern=HEX32,
    description="keccak256 of the evidence kept off chain (the scanned, signed consent form).",
    examples=["0x" + "ab" * 32],
)
_ENROLS = ACTS | {
    409: {
        "description": "The chain refuses the call now (`call_reverts`, with the decoded custom error: "
        "EnrolmentRegistryAlreadyEnrolled, EnrolmentRegistryNotEnrolled, no ENROLLER_ROLE)."
    }
}


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident: str = Field(
        pattern=ADDRESS, description="The resident's address (their wallet or custodial one)."
    )
    party: str = _PARTY
    evidenceHash: str = _EVIDENCE


class BulkEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident: str = Field(pattern=ADDRESS)
    evidenceHash: str = _EVIDENCE


class BulkEnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: str = _PARTY
    residents: list[BulkEntry] = Field(
        min_length=1,
        max_length=MAX_BULK,
        description="Residents already enrolled are skipped on chain. For more, send several requests.",
    )


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasonCode: int = Field(
        ge=0, le=UINT16_MAX, description="The product's reason code (e.g. 1 erasure, 2 mistake)."
    )


@router.post("", response_model=StaffActionResponse, responses=_ENROLS)
async def enrol(body: EnrolRequest, principal: Enroller, services: ServicesDep) -> dict[str, Any]:
    """Enrols one resident for the desk's party (EnrolmentRegistry.enrol); refused if enrolled already."""
    args = [body.resident, party_code(body.party), bytes32(body.evidenceHash)]
    return await call(services, principal, CONTRACT, "enrol", args)


@router.post("/bulk", response_model=StaffActionResponse, responses=_ENROLS)
async def enrol_bulk(body: BulkEnrolRequest, principal: Enroller, services: ServicesDep) -> dict[str, Any]:
    """Enrols up to 100 residents for one party in one call (EnrolmentRegistry.enrolBatch)."""
    code = party_code(body.party)
    entries = [[e.resident, code, bytes32(e.evidenceHash)] for e in body.residents]
    return await call(services, principal, CONTRACT, "enrolBatch", [entries])


@router.post("/{address}/withdraw", response_model=StaffActionResponse, responses=_ENROLS)
async def withdraw(
    address: Annotated[str, Path(pattern=ADDRESS, description="The enrolled resident.")],
    body: WithdrawRequest,
    principal: Enroller,
    services: ServicesDep,
) -> dict[str, Any]:
    """Withdraws a resident's enrolment with a reason code (EnrolmentRegistry.withdraw)."""
    return await call(services, principal, CONTRACT, "withdraw", [address, body.reasonCode])
