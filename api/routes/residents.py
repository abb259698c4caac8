"""What the SQL mirror knows about a resident."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import ResidentPublic
from ._mirror import ADDRESS, INVALID

router = APIRouter(prefix="/v1/residents", tags=["residents"])

AddressPath = Annotated[str, Path(pattern=ADDRESS, description="The resident's address.")]


@router.get("/{address}", response_model=ResidentPublic, responses=INVALID)
def resident(address: AddressPath, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """Balance, accepted plogging, feedback, redemptions, donations and claims from the mirror."""
    return queries.resident_summary(
        session.connection(),
        chain_id=services.deployment.chain_id,
        token=services.deployment.address("ParticipationToken"),
        resident=address,
    )
