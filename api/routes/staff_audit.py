"""The auditor's exports and ESG metrics (docs/audit.md): thin routes over indexer/exports and
indexer/esg_metrics. Periods are block time (`from`/`to`: a date in KST, an ISO time or unix s)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from indexer.esg_metrics import metrics_by
from indexer.exports import (
    KINDS,
    BlockClock,
    BlockPeriod,
    Filters,
    csv_lines,
    export_page,
    export_rows,
    parse_when,
)
from indexer.store import load_cursor
from ledger.errors import AuditQueryError

from ..deps import ReadSessionDep, ServicesDep
from ..services import Services
from ._mirror import Limit, Offset
from ._staff import ADDRESS, AUTH, Auditor

router = APIRouter(prefix="/v1/staff/audit", tags=["staff: audit"])

When = Annotated[
    str | None,
    Query(
        max_length=40, pattern=r"^[0-9T:+\-.Z ]+$", description="A date (KST midnight), ISO time or unix s."
    ),
]
_KINDS = "; ".join(f"`{k}`: {', '.join(c for c, _ in v.columns)}" for k, v in KINDS.items())


class ExportPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="Rows in the kind's column order (docs/audit.md#exports)."
    )
    total: int


class MetricsResponse(BaseModel):
    groups: list[dict[str, Any]] = Field(description="One set of figures per group, each with its SQL.")


def _period(services: Services, session: Any, since: str | None, until: str | None) -> BlockPeriod:
    d = services.deployment
    cursor = load_cursor(session.connection(), d.chain_id)
    last = cursor[0] if cursor else d.start_block - 1
    return BlockClock(services.rpc).period(
        parse_when(since, "from"), parse_when(until, "to"), start_block=d.start_block, last_block=last
    )


def _refused(exc: AuditQueryError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get(
    "/exports/{kind}",
    response_model=ExportPage,
    responses={
        **AUTH,
        200: {
            "description": "JSON: one page `{items, total}`. CSV (`format=csv`): every matching row, "
            "streamed, oldest first, with a header line. Columns per kind: " + _KINDS,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
def export(
    _principal: Auditor,
    services: ServicesDep,
    session: ReadSessionDep,
    kind: Literal["plogging", "feedback", "redemptions", "donations", "claims", "admin"],
    format: Literal["json", "csv"] = "json",
    since: Annotated[When, Query(alias="from")] = None,
    until: Annotated[When, Query(alias="to")] = None,
    area: Annotated[int | None, Query(ge=0, le=2**32 - 1)] = None,
    campaign: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    status: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$")] = None,
    resident: Annotated[str | None, Query(pattern=ADDRESS)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """One record kind with every row's on-chain anchor, as a JSON page or a streamed CSV."""
    chain_id = services.deployment.chain_id
    try:
        p = _period(services, session, since, until)
        filters = Filters(p.first, p.last, area, campaign, status, resident)
        if format == "json":
            return export_page(
                session.connection(),
                kind=kind,
                chain_id=chain_id,
                filters=filters,
                limit=limit,
                offset=offset,
            )
        export_page(session.connection(), kind=kind, chain_id=chain_id, filters=filters, limit=1, offset=0)
    except AuditQueryError as exc:
        raise _refused(exc) from None

    def lines() -> Any:
        with services.engine.connect() as conn:  # the request's session closes before the body streams
            yield from csv_lines(kind, export_rows(conn, kind=kind, chain_id=chain_id, filters=filters))

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
    )


@router.get("/metrics", response_model=MetricsResponse, responses=AUTH)
def esg_metrics(
    _principal: Auditor,
    services: ServicesDep,
    session: ReadSessionDep,
    since: Annotated[When, Query(alias="from")] = None,
    until: Annotated[When, Query(alias="to")] = None,
    by: Literal["area", "campaign", "month"] | None = None,
) -> dict[str, Any]:
    """ESG figures (participation, waste, feedback, tokens) for the period, each with its SQL."""
    try:
        p = _period(services, session, since, until)
        sets = metrics_by(
            session.connection(),
            BlockClock(services.rpc),
            chain_id=services.deployment.chain_id,
            period=p,
            by=by,
        )
    except AuditQueryError as exc:
        raise _refused(exc) from None
    return {"groups": [s.as_json() for s in sets]}
