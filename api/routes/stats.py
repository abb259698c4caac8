"""Programme totals for the ESG team's dashboard, from the SQL mirror and the outbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import StatsResponse

router = APIRouter(prefix="/v1", tags=["operations"])


@router.get("/stats", response_model=StatsResponse)
def stats(services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """Residents, accepted sessions, litter, distance, points minted, and actions by status."""
    return queries.programme_totals(session.connection(), chain_id=services.deployment.chain_id)
