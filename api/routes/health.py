from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ..deps import ServicesDep
from ..schemas import HealthResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def healthz(services: ServicesDep) -> JSONResponse:
    """200 once the API, chain and database are usable ("degraded" while the mirror lags); 503 if not."""
    problems: list[str] = []
    warnings: list[str] = []
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
    settings = services.settings
    if head is not None and cursor is not None and head - cursor[0] > settings.indexer_max_lag:
        warnings.append(f"indexer: {head - cursor[0]} blocks behind the head")
    unchanged = time.time() - services.indexer.status.head_changed_at
    if settings.head_stall_seconds and unchanged > settings.head_stall_seconds:
        warnings.append(f"chain: the head has not moved for {unchanged:.0f}s")
    body = HealthResponse(
        status="unavailable" if problems else "degraded" if warnings else "ok",
        chainId=services.deployment.chain_id,
        head=head,
        indexed=cursor[0] if cursor else None,
        database=database,
        problems=problems + warnings,
        alarms=sorted(services.relayer.alarms.values()),
    )
    return JSONResponse(body.model_dump(), status_code=503 if problems else 200)
