from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import ServicesDep
from ..schemas import DeploymentResponse

router = APIRouter(tags=["chain"])


@router.get("/v1/deployment", response_model=DeploymentResponse)
def deployment(services: ServicesDep) -> dict[str, Any]:
    """The chain id, every contract's address and ABI, and the block the deployment started at."""
    return services.deployment.public()
