"""Programme totals for the ESG team's dashboard, from the SQL mirror and the outbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import select

from indexer.models import EVENT_TABLES
from ledger.models import Action

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import StatsResponse
from ._mirror import ACCEPTED, CURRENT_STATUS, SESSION, SESSIONS_WITH_REVIEW

router = APIRouter(prefix="/v1", tags=["operations"])

ZERO = "0x0000000000000000000000000000000000000000"


@router.get("/stats", response_model=StatsResponse)
def stats(services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """Residents, accepted sessions, litter, distance, points minted, and actions by status."""
    chain_id = services.deployment.chain_id
    residents, sessions, grams, meters = session.exec(
        select(
            func.count(func.distinct(SESSION.c.resident)),
            func.count(),
            func.coalesce(func.sum(SESSION.c.trash_grams), 0),
            func.coalesce(func.sum(SESSION.c.distance_meters), 0),
        )
        .select_from(SESSIONS_WITH_REVIEW)
        .where(SESSION.c.chain_id == chain_id, CURRENT_STATUS == ACCEPTED)
    ).one()
    transfer = EVENT_TABLES["token_transfer"]
    minted = session.exec(
        select(func.coalesce(func.sum(transfer.c.value), 0)).where(
            transfer.c.chain_id == chain_id, transfer.c.from_address == ZERO
        )
    ).one()
    by_status = session.exec(select(Action.status, func.count()).group_by(Action.status)).all()
    return {
        "chainId": chain_id,
        "residents": int(residents),
        "plogging": {"sessions": int(sessions), "trashGrams": int(grams), "distanceMeters": int(meters)},
        "pointsMinted": int(minted),
        "actions": {str(s): int(n) for s, n in by_status},
    }
