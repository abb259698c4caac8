"""Public health from the state the background jobs keep: no node call per request (ledger/health.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import ServicesDep
from ..jobstate import job_state
from ..schemas import HealthResponse

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "Down: a check says so, with its code."}},
)
def healthz(services: ServicesDep) -> JSONResponse:
    """ok or degraded (200) once the API, chain and database are usable; down (503) otherwise."""
    health, state = job_state(services).health()
    body = HealthResponse.model_validate(
        {
            "status": health.status,
            "checks": {name: {"status": c.status, "code": c.code} for name, c in health.checks.items()},
            "chainId": services.deployment.chain_id,
            "head": state.head if state else None,
            "indexed": state.indexed if state else None,
        }
    )
    return JSONResponse(body.model_dump(), status_code=503 if health.status == "down" else 200)
