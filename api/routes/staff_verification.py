"""The verification queue: pending plogging sessions, verified, rejected or revoked by a verifier
acting as themselves (PloggingRegistry.verify / reject / revoke / revokeCommitted / settleClawback)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from indexer import staff_queries

from ..deps import ReadSessionDep, ServicesDep
from ._mirror import INT64_MAX, AreaCodeQuery, Limit, Offset
from ._staff import (
    ACTS,
    ADDRESS,
    AUTH,
    CONFLICT,
    HEX32,
    MAX_BULK,
    NOT_FOUND,
    UINT16_MAX,
    UINT32_MAX,
    BulkItemResult,
    BulkResponse,
    StaffActionResponse,
    Verifier,
    bytes32,
    call,
    in_scope,
    refusal,
)

router = APIRouter(prefix="/v1/staff/plogging", tags=["staff: verification"])

DigestPath = Annotated[str, Path(pattern=HEX32, description="The session's EIP-712 digest.")]


def _uint32(alias: str, description: str) -> Any:
    return Query(alias=alias, ge=0, le=UINT32_MAX, description=description)


def _age(alias: str, description: str) -> Any:
    return Query(alias=alias, ge=0, le=INT64_MAX, description=description)


class SessionHistory(BaseModel):
    pending: int = 0
    accepted: int = 0
    rejected: int = 0
    revoked: int = 0


class QueuedSession(BaseModel):
    digest: str
    resident: str
    distanceMeters: int
    durationSeconds: int
    trashGrams: int
    areaCode: int
    startedAt: int
    evidenceHash: str = Field(
        description="As the resident signed it: keccak256 of the evidence kept off-chain."
    )
    reward: int = Field(description="Points minted if verified.")
    flags: list[str] = Field(
        description="Bounds the session comes within 80% of: trash_near_max, distance_near_max, "
        "speed_near_max, duration_near_max."
    )
    history: SessionHistory = Field(description="The resident's recorded sessions by current status.")
    blockNumber: int
    logIndex: int
    txHash: str


class QueuePage(BaseModel):
    items: list[QueuedSession]
    total: int


class SessionDetail(QueuedSession):
    status: str = Field(description="pending, accepted, rejected or revoked (now).")
    recordedStatus: str = Field(description="As recorded: accepted (auto-accepted) or pending.")
    verifier: str | None
    reasonCode: int | None


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasonCode: int = Field(
        ge=0, le=UINT16_MAX, description="From the ESG team's code list (0: unspecified)."
    )


class BulkVerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digests: list[Annotated[str, Field(pattern=HEX32)]] = Field(min_length=1, max_length=MAX_BULK)


class CommittedProof(BaseModel):
    batchId: int
    digest: str
    resident: str
    reward: int
    proof: list[str] = Field(description="Sibling hashes, leaf to root (utils/BatchMerkle.sol's tree).")
    root: str = Field(description="The batch's committed root, which the proof was checked against.")


def _session(session: ReadSessionDep, chain_id: int, digest: str) -> dict[str, Any]:
    detail = staff_queries.session_detail(session.connection(), chain_id=chain_id, digest=digest)
    if detail is None:
        raise HTTPException(404, f"no plogging session {digest} in the mirror")
    return detail


@router.get("/queue", response_model=QueuePage, responses=AUTH)
def queue(
    principal: Verifier,
    services: ServicesDep,
    session: ReadSessionDep,
    area_code: AreaCodeQuery = None,
    min_age: Annotated[int | None, _age("minAgeSeconds", "Started at least this many seconds ago.")] = None,
    max_age: Annotated[int | None, _age("maxAgeSeconds", "Started at most this many seconds ago.")] = None,
    min_trash: Annotated[int | None, _uint32("minTrashGrams", "At least this much litter.")] = None,
    max_trash: Annotated[int | None, _uint32("maxTrashGrams", "At most this much litter.")] = None,
    min_distance: Annotated[int | None, _uint32("minDistanceMeters", "At least this far.")] = None,
    max_distance: Annotated[int | None, _uint32("maxDistanceMeters", "At most this far.")] = None,
    flagged: Annotated[
        bool | None, Query(description="Only sessions near a bound (true), or none (false).")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Pending sessions in the verifier's areas, oldest first, with flags and the resident's history."""
    return staff_queries.verification_queue(
        session.connection(),
        chain_id=services.deployment.chain_id,
        now=int(time.time()),
        areas=principal.areas,
        area_code=area_code,
        min_age_seconds=min_age,
        max_age_seconds=max_age,
        min_trash_grams=min_trash,
        max_trash_grams=max_trash,
        min_distance_meters=min_distance,
        max_distance_meters=max_distance,
        flagged=flagged,
        limit=limit,
        offset=offset,
    )


@router.get("/sessions/{digest}", response_model=SessionDetail, responses=AUTH | NOT_FOUND)
def session_detail(
    digest: DigestPath, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """One session with its current status, the verifier's decision and the resident's history."""
    detail = _session(session, services.deployment.chain_id, digest)
    in_scope(principal, detail["areaCode"])
    return detail


@router.post("/sessions/{digest}/verify", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def verify(
    digest: DigestPath, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Accepts a pending session and mints its reward (PloggingRegistry.verify)."""
    in_scope(principal, _session(session, services.deployment.chain_id, digest)["areaCode"])
    return await call(services, principal, "PloggingRegistry", "verify", [bytes32(digest)])


@router.post("/sessions/{digest}/reject", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def reject(
    digest: DigestPath, body: ReasonBody, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Rejects a pending session with a reason code (PloggingRegistry.reject)."""
    in_scope(principal, _session(session, services.deployment.chain_id, digest)["areaCode"])
    return await call(services, principal, "PloggingRegistry", "reject", [bytes32(digest), body.reasonCode])


@router.post("/verify", response_model=BulkResponse, responses=AUTH)
async def verify_bulk(
    body: BulkVerifyBody, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Verifies many pending sessions: one staff call each; a refused one does not stop the others."""
    results: list[BulkItemResult] = []
    for digest in body.digests:
        try:
            in_scope(principal, _session(session, services.deployment.chain_id, digest)["areaCode"])
            result = await call(services, principal, "PloggingRegistry", "verify", [bytes32(digest)])
            results.append(BulkItemResult(key=digest, result=StaffActionResponse(**result)))
        except Exception as exc:  # each entry stands alone: report it and go on
            results.append(BulkItemResult(key=digest, error=refusal(exc)))
    return {"results": results}


@router.get("/sessions/{digest}/proof", response_model=CommittedProof, responses=AUTH | NOT_FOUND)
def committed_proof(
    digest: DigestPath, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """An auto-accepted session's Merkle proof in its batch, rebuilt from the mirror."""
    chain_id = services.deployment.chain_id
    in_scope(principal, _session(session, chain_id, digest)["areaCode"])
    proof = staff_queries.committed_session(session.connection(), chain_id=chain_id, digest=digest)
    if proof is None:
        raise HTTPException(404, f"session {digest} was not auto-accepted in a committed batch")
    return proof


@router.post(
    "/sessions/{digest}/revoke", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND | CONFLICT
)
async def revoke(
    digest: DigestPath, body: ReasonBody, principal: Verifier, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Revokes an accepted session, burning its reward: revoke for a verified one, revokeCommitted
    with the product's Merkle proof for an auto-accepted one."""
    chain_id = services.deployment.chain_id
    detail = _session(session, chain_id, digest)
    in_scope(principal, detail["areaCode"])
    if detail["status"] != "accepted":
        raise HTTPException(
            409, f"session {digest} is {detail['status']}: only accepted sessions are revoked"
        )
    if detail["recordedStatus"] == "pending":  # stored by the registry, then verified
        return await call(
            services, principal, "PloggingRegistry", "revoke", [bytes32(digest), body.reasonCode]
        )
    proof = staff_queries.committed_session(session.connection(), chain_id=chain_id, digest=digest)
    if proof is None:
        raise HTTPException(404, f"session {digest} has no committed batch in the mirror")
    committed = [proof["batchId"], proof["digest"], proof["resident"], proof["reward"], proof["proof"]]
    return await call(
        services, principal, "PloggingRegistry", "revokeCommitted", [committed, body.reasonCode]
    )


@router.post("/clawback/{resident}", response_model=StaffActionResponse, responses=ACTS)
async def settle_clawback(
    resident: Annotated[str, Path(pattern=ADDRESS, description="The indebted resident.")],
    principal: Verifier,
    services: ServicesDep,
) -> dict[str, Any]:
    """Burns what the resident now holds of their claw-back debt (PloggingRegistry.settleClawback)."""
    return await call(
        services, principal, "PloggingRegistry", "settleClawback", [to_checksum_address(resident)]
    )
