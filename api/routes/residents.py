"""What the SQL mirror knows about a resident."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from indexer import queries

from .. import schemas
from ..deps import ServicesDep
from ..schemas import PloggingSessionPublic, ResidentRecent
from ..services import Services
from ._mirror import ADDRESS, INVALID, json_response, mirror_read
from .feedback import FeedbackItemWithAnswer

router = APIRouter(prefix="/v1/residents", tags=["residents"])


class SessionOutcome(PloggingSessionPublic):
    """A session with the verifier's decision, once there is one."""

    reasonCode: int | None = Field(description="Why it was rejected or revoked (the ESG team's code list).")
    verifier: str | None = Field(description="The verifier who verified, rejected or revoked it.")


class SessionOutcomes(BaseModel):
    pending: int
    accepted: int
    rejected: int
    revoked: int


class RecentWithOutcomes(ResidentRecent):
    sessions: list[SessionOutcome] = Field(description="The last 20 sessions, newest first, with outcomes.")
    feedback: list[FeedbackItemWithAnswer]  # type: ignore[assignment]  # narrower: with the answer


class ResidentPublic(schemas.ResidentPublic):
    """The resident as the mirror has them, with the outcome of each session and feedback item."""

    sessionOutcomes: SessionOutcomes = Field(description="Recorded sessions by current status.")
    recent: RecentWithOutcomes = Field(description="The last 20 of each, newest first.")


AddressPath = Annotated[str, Path(pattern=ADDRESS, description="The resident's address.")]


@router.get("/{address}", response_model=ResidentPublic, responses=INVALID)
def resident(address: AddressPath, services: ServicesDep) -> Response:
    """Balance, plogging with each session's outcome, feedback with answers, redemptions, donations
    and claims from the mirror."""
    with mirror_read(services.engine) as conn:
        return json_response(read_resident(conn, services, address=address))


def read_resident(conn: Connection, services: Services, *, address: str) -> dict[str, Any]:
    """The route's answer, shared with the lean read path (api/readpath.py)."""
    return queries.resident_summary(
        conn,
        chain_id=services.deployment.chain_id,
        token=services.deployment.address("ParticipationToken"),
        resident=address,
    )
