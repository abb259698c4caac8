"""Causes residents can donate points to, from the mirror, with their off-chain profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from indexer import queries

from ..deps import ReadSessionDep, ServicesDep
from ..schemas import CausePage
from ._mirror import INVALID, Limit, Offset

router = APIRouter(prefix="/v1/causes", tags=["directory"])


@router.get("", response_model=CausePage, responses=INVALID)
def causes(
    services: ServicesDep,
    session: ReadSessionDep,
    active: Annotated[bool | None, Query(description="Only causes taking donations (true), or not.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Causes by id, with their donation wallets."""
    return queries.causes(
        session.connection(), chain_id=services.deployment.chain_id, active=active, limit=limit, offset=offset
    )
