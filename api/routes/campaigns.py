"""Campaigns with collective goals, from the mirror, with their off-chain profiles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import CampaignPage
from ._mirror import INVALID, Limit, Offset

router = APIRouter(prefix="/v1/campaigns", tags=["directory"])

Status = Literal["active", "achieved", "missed", "cancelled"]  # queries.CAMPAIGN_STATUSES


@router.get("", response_model=CampaignPage, responses=INVALID)
def campaigns(
    services: ServicesDep,
    session: ReadSessionDep,
    status: Annotated[Status | None, Query(description="Only campaigns in this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Campaigns, newest first, with goal, reported progress and bonus distribution."""
    return queries.campaigns(
        session.connection(), chain_id=services.deployment.chain_id, status=status, limit=limit, offset=offset
    )
