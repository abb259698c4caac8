"""Plogging sessions as the SQL mirror holds them: for the ESG team's audit trail and residents' history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import PloggingSessionPublic
from ._mirror import ADDRESS, INT64_MAX, INVALID, AreaCodeQuery

router = APIRouter(prefix="/v1/plogging", tags=["plogging"])


@router.get("/sessions", response_model=list[PloggingSessionPublic], responses=INVALID)
def sessions(
    services: ServicesDep,
    session: ReadSessionDep,
    resident: Annotated[str | None, Query(pattern=ADDRESS)] = None,
    area_code: AreaCodeQuery = None,
    before_block: Annotated[int | None, Query(alias="beforeBlock", ge=0, le=INT64_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Recorded sessions, newest first, with their current review status (page with `beforeBlock`)."""
    return queries.plogging_sessions(
        session.connection(),
        chain_id=services.deployment.chain_id,
        resident=resident,
        area_code=area_code,
        before_block=before_block,
        limit=limit,
    )
