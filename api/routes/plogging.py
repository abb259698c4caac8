"""Plogging sessions as the SQL mirror holds them: for the ESG team's audit trail and residents' history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import PloggingSessionPublic
from ._mirror import CURRENT_STATUS, SESSION, SESSIONS_WITH_REVIEW, STATUS_NAMES

router = APIRouter(prefix="/v1/plogging", tags=["plogging"])


def to_public(row: Any) -> dict[str, Any]:
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
        "status": STATUS_NAMES.get(row.current_status, str(row.current_status)),
        "txHash": row.tx_hash,
        "blockNumber": row.block_number,
        "logIndex": row.log_index,
    }


@router.get("/sessions", response_model=list[PloggingSessionPublic])
def sessions(
    services: ServicesDep,
    session: ReadSessionDep,
    resident: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
    area_code: Annotated[int | None, Query(alias="areaCode", ge=0)] = None,
    before_block: Annotated[int | None, Query(alias="beforeBlock", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Recorded sessions, newest first, with their current review status (page with `beforeBlock`)."""
    query = (
        select(SESSION, CURRENT_STATUS.label("current_status"))
        .select_from(SESSIONS_WITH_REVIEW)
        .where(SESSION.c.chain_id == services.deployment.chain_id)
    )
    if resident is not None:
        query = query.where(func.lower(SESSION.c.resident) == resident.lower())
    if area_code is not None:
        query = query.where(SESSION.c.area_code == area_code)
    if before_block is not None:
        query = query.where(SESSION.c.block_number < before_block)
    query = query.order_by(SESSION.c.block_number.desc(), SESSION.c.log_index.desc()).limit(limit)
    return [to_public(r) for r in session.connection().execute(query)]
