"""What the SQL mirror knows about a resident."""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path
from sqlalchemy import func
from sqlmodel import select

from indexer.models import BALANCE
from ledger.models import Action

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import ResidentResponse
from ._mirror import ACCEPTED, CURRENT_STATUS, SESSION, SESSIONS_WITH_REVIEW

router = APIRouter(prefix="/v1/residents", tags=["residents"])

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="The resident's address.")]


@router.get("/{address}", response_model=ResidentResponse)
def resident(address: AddressPath, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """Balance and accepted plogging totals from the mirror, and the resident's actions in the outbox."""
    who = to_checksum_address(address)
    chain_id = services.deployment.chain_id
    token = services.deployment.address("ParticipationToken")
    balance = session.exec(
        select(func.coalesce(func.sum(BALANCE.c.balance), 0)).where(
            BALANCE.c.chain_id == chain_id, BALANCE.c.token == token, BALANCE.c.holder == who
        )
    ).one()
    sessions, grams, meters = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(SESSION.c.trash_grams), 0),
            func.coalesce(func.sum(SESSION.c.distance_meters), 0),
        )
        .select_from(SESSIONS_WITH_REVIEW)
        .where(SESSION.c.chain_id == chain_id, SESSION.c.resident == who, CURRENT_STATUS == ACCEPTED)
    ).one()
    by_status = session.exec(
        select(Action.status, func.count()).where(Action.resident == who).group_by(Action.status)
    ).all()
    return {
        "address": who,
        "balance": int(balance),
        "plogging": {"sessions": int(sessions), "trashGrams": int(grams), "distanceMeters": int(meters)},
        "actions": {str(s): int(n) for s, n in by_status},
    }
