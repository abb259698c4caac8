"""What the SQL mirror knows about a resident."""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path
from sqlalchemy import func
from sqlmodel import select

from indexer.models import PloggingSession, TokenTransfer
from ledger.models import Action

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import ResidentResponse

router = APIRouter(prefix="/v1/residents", tags=["residents"])

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="The resident's address.")]
ACCEPTED = 2  # IPloggingRegistry.SessionStatus.Accepted


@router.get("/{address}", response_model=ResidentResponse)
def resident(address: AddressPath, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """Balance and plogging totals from the mirror, and the resident's actions in the outbox."""
    who = to_checksum_address(address)
    chain_id = services.deployment.chain_id
    token = services.deployment.address("ParticipationToken")
    received = session.exec(
        select(func.coalesce(func.sum(TokenTransfer.value), 0)).where(
            TokenTransfer.chain_id == chain_id, TokenTransfer.token == token, TokenTransfer.to_address == who
        )
    ).one()
    sent = session.exec(
        select(func.coalesce(func.sum(TokenTransfer.value), 0)).where(
            TokenTransfer.chain_id == chain_id,
            TokenTransfer.token == token,
            TokenTransfer.from_address == who,
        )
    ).one()
    sessions, grams, meters = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(PloggingSession.trash_grams), 0),
            func.coalesce(func.sum(PloggingSession.distance_meters), 0),
        ).where(
            PloggingSession.chain_id == chain_id,
            PloggingSession.resident == who,
            PloggingSession.status == ACCEPTED,
        )
    ).one()
    by_status = session.exec(
        select(Action.status, func.count()).where(Action.resident == who).group_by(Action.status)
    ).all()
    return {
        "address": who,
        "balance": int(received) - int(sent),
        "plogging": {"sessions": int(sessions), "trashGrams": int(grams), "distanceMeters": int(meters)},
        "actions": {str(s): int(n) for s, n in by_status},
    }
