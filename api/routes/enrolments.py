"""Who counts as a resident, for anyone (auditors, partners): each enrolment with its enrolling party,
the enroller's own address and its on-chain anchor (block, transaction, log). Public: it is on chain
anyway; no personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from indexer import enrolment_queries
from ledger.enrolment import PARTY_PATTERN, is_enrolled, party_code, party_name

from ..deps import ReadSessionDep, ServicesDep
from ._mirror import ADDRESS, INVALID, NOT_FOUND, Limit, Offset

router = APIRouter(prefix="/v1/enrolments", tags=["enrolment"])

HEX32 = r"^0x[0-9a-fA-F]{64}$"


class Anchor(BaseModel):
    blockNumber: int = Field(ge=0)
    txHash: str = Field(pattern=HEX32)


class EnrolmentEvent(BaseModel):
    event: str = Field(description="ResidentEnrolled or ResidentWithdrawn.", examples=["ResidentEnrolled"])
    by: str = Field(
        pattern=ADDRESS,
        description="The enroller (or who withdrew): a staff member's or platform's own address.",
    )
    party: str = Field(pattern=HEX32, description="The party code as bytes32.")
    partyName: str = Field(description="The party code as text.", examples=["desk:suwon-city-hall"])
    evidenceHash: str | None = Field(default=None, pattern=HEX32)
    reasonCode: int | None = Field(default=None, ge=0, le=2**16 - 1)
    blockNumber: int = Field(ge=0)
    logIndex: int = Field(ge=0)
    txHash: str = Field(pattern=HEX32)


class EnrolmentPublic(BaseModel):
    address: str = Field(pattern=ADDRESS)
    enrolled: bool = Field(description="Enrolled now (false once withdrawn).")
    party: str = Field(
        pattern=HEX32, description="The accountable party of the latest enrolment, as bytes32."
    )
    partyName: str = Field(examples=["desk:suwon-city-hall"])
    enroller: str = Field(pattern=ADDRESS, description="Who enrolled them: `_msgSender()` of the enrolment.")
    evidenceHash: str = Field(pattern=HEX32, description="keccak256 of the evidence kept off chain.")
    enrolledAt: Anchor
    withdrawnBy: str | None = Field(default=None, pattern=ADDRESS)
    reasonCode: int | None = Field(default=None, ge=0, le=2**16 - 1)


class EnrolmentDetail(EnrolmentPublic):
    pending: bool = Field(
        description="An enrolment request is in the outbox (queued, in flight, or not mirrored yet)."
    )
    history: list[EnrolmentEvent] = Field(description="Every enrolment and withdrawal, oldest first.")


class EnrolmentPage(BaseModel):
    items: list[EnrolmentPublic]
    total: int = Field(ge=0)


def _named(record: dict[str, Any]) -> dict[str, Any]:
    return record | {"partyName": party_name(record["party"])}


@router.get("", response_model=EnrolmentPage, responses=INVALID)
def enrolments(
    services: ServicesDep,
    session: ReadSessionDep,
    party: Annotated[
        str | None, Query(pattern=PARTY_PATTERN, max_length=32, description="Only this party's (its code).")
    ] = None,
    enroller: Annotated[str | None, Query(pattern=ADDRESS, description="Only this enroller's.")] = None,
    enrolled: Annotated[
        bool | None, Query(description="Only those enrolled now (true) or withdrawn (false).")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Residents ever enrolled, newest first, with who enrolled them and where it is on chain."""
    page = enrolment_queries.enrolments(
        session.connection(),
        chain_id=services.deployment.chain_id,
        party=None if party is None else party_code(party),
        enroller=enroller,
        enrolled=enrolled,
        limit=limit,
        offset=offset,
    )
    return {"items": [_named(i) for i in page["items"]], "total": page["total"]}


@router.get("/{address}", response_model=EnrolmentDetail, responses=INVALID | NOT_FOUND)
def enrolment(
    address: Annotated[str, Path(pattern=ADDRESS, description="The resident's address.")],
    services: ServicesDep,
    session: ReadSessionDep,
) -> dict[str, Any]:
    """One resident's enrolment as the chain records it; 404 if no enrolment of theirs is mirrored."""
    conn = session.connection()
    chain_id = services.deployment.chain_id
    record = enrolment_queries.enrolment(conn, chain_id=chain_id, address=address)
    if record is None:
        raise HTTPException(404, f"no enrolment of {address} is recorded on chain (yet)")
    pending = not record["enrolled"] and is_enrolled(conn, chain_id=chain_id, resident=address)
    return _named(record) | {
        "pending": pending,
        "history": [h | {"partyName": party_name(h["party"])} for h in record["history"]],
    }
