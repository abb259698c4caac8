"""Partners that accept points, from the mirror, with their off-chain profiles."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import PartnerPage
from ._mirror import INVALID, Limit, Offset

router = APIRouter(prefix="/v1/partners", tags=["directory"])


@router.get("", response_model=PartnerPage, responses=INVALID)
def partners(
    services: ServicesDep,
    session: ReadSessionDep,
    active: Annotated[
        bool | None, Query(description="Only partners that accept points now (true), or that do not (false).")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Registered and removed partners by address; active means registered and not expired now."""
    return queries.partners(
        session.connection(),
        chain_id=services.deployment.chain_id,
        now=int(time.time()),
        active=active,
        limit=limit,
        offset=offset,
    )
