"""Plogging sessions as the SQL mirror holds them: for the ESG team's audit trail and residents' history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import col, select

from indexer.models import PloggingSession

from ..deps import ServicesDep, SessionDep
from ..schemas import PloggingSessionPublic

router = APIRouter(prefix="/v1/plogging", tags=["plogging"])

STATUS_NAMES = {1: "pending", 2: "accepted", 3: "rejected", 4: "revoked"}


def to_public(row: PloggingSession) -> dict[str, Any]:
    return {
        "id": row.digest,
        "resident": row.resident,
        "distanceMeters": row.distance_meters,
        "durationSeconds": row.duration_seconds,
        "trashGrams": row.trash_grams,
        "areaCode": row.area_code,
        "startedAt": row.started_at,
        "evidenceHash": row.evidence_hash,
        "reward": row.reward,
        "status": STATUS_NAMES.get(row.status, str(row.status)),
        "txHash": row.tx_hash,
        "blockNumber": row.block_number,
        "logIndex": row.log_index,
    }


@router.get("/sessions", response_model=list[PloggingSessionPublic])
def sessions(
    services: ServicesDep,
    session: SessionDep,
    resident: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
    area_code: Annotated[int | None, Query(alias="areaCode", ge=0)] = None,
    before_block: Annotated[int | None, Query(alias="beforeBlock", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Recorded sessions, newest first, each with the log that records it (page with `beforeBlock`)."""
    query = select(PloggingSession).where(PloggingSession.chain_id == services.deployment.chain_id)
    if resident is not None:
        query = query.where(col(PloggingSession.resident).ilike(resident))
    if area_code is not None:
        query = query.where(PloggingSession.area_code == area_code)
    if before_block is not None:
        query = query.where(col(PloggingSession.block_number) < before_block)
    query = query.order_by(col(PloggingSession.block_number).desc(), col(PloggingSession.log_index).desc())
    return [to_public(r) for r in session.exec(query.limit(limit)).all()]
