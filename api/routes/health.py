from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ..deps import ServicesDep
from ..schemas import HealthResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def healthz(services: ServicesDep) -> JSONResponse:
    """200 once the API, the chain and the database are usable; 503 with the problems otherwise."""
    problems: list[str] = []
    database = "ok"
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        database = "unavailable"
        problems.append(f"database: {exc.__class__.__name__}")
    head = None
    try:
        head = int(services.rpc.call("eth_blockNumber"), 16)
    except Exception as exc:
        problems.append(f"chain: {exc}")
    cursor = services.indexer.cursor() if database == "ok" else None
    problems.extend(f"{job} job: {err}" for job, err in services.last_errors.items())
    body = HealthResponse(
        status="ok" if not problems else "unavailable",
        chainId=services.deployment.chain_id,
        head=head,
        indexed=cursor[0] if cursor else None,
        database=database,
        problems=problems,
        alarms=sorted(services.relayer.alarms.values()),
    )
    return JSONResponse(body.model_dump(), status_code=200 if not problems else 503)
