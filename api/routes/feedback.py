"""The feedback box as the mirror holds it: items with their text, supports and official answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from indexer import queries

from .. import schemas
from ..deps import ReadSessionDep, ServicesDep
from ..schemas import FeedbackAnswer, FeedbackItemPublic
from ..services import Services
from ._mirror import (
    INT64_MAX,
    INVALID,
    NOT_FOUND,
    AreaCodeQuery,
    Limit,
    Offset,
    ResidentQuery,
    json_response,
    mirror_read,
)

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


class FeedbackItemWithAnswer(FeedbackItemPublic):
    answerText: str | None = Field(
        description="The official answer's text once answered (its keccak256 is on chain)."
    )


class FeedbackPage(BaseModel):
    items: list[FeedbackItemWithAnswer]
    total: int = Field(description="Items matching the filters, on every page.")


class OfficialAnswer(FeedbackAnswer):
    text: str | None = Field(
        description="The answer's text as the reviewer wrote it; keccak256(utf-8 text) == answerHash. "
        "Null if the answer was given outside this ledger."
    )


class FeedbackItemDetail(schemas.FeedbackItemDetail):
    answerText: str | None = Field(description="The official answer's text, once answered.")
    answer: OfficialAnswer | None


Status = Literal["submitted", "under_review", "answered", "closed"]  # queries.FEEDBACK_STATUSES


@router.get("", response_model=FeedbackPage, responses=INVALID)
def feedback_items(
    services: ServicesDep,
    status: Annotated[Status | None, Query(description="Only items in this status.")] = None,
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[^\x00-\x1f\x7f]+$",
            description="Only this category, by its name as set on chain (case-insensitive).",
        ),
    ] = None,
    area_code: AreaCodeQuery = None,
    resident: ResidentQuery = None,
    hidden: Annotated[bool | None, Query(description="Only hidden (true) or visible (false) items.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Feedback items, newest first, with their text unless hidden by moderation or erased."""
    with mirror_read(services.engine) as conn:
        page = read_items(
            conn,
            services,
            status=status,
            category=category,
            area_code=area_code,
            resident=resident,
            hidden=hidden,
            limit=limit,
            offset=offset,
        )
    return json_response(page)


def read_items(conn: Connection, services: Services, **params: Any) -> dict[str, Any]:
    """The route's answer from its parameters by name, shared with the lean read path
    (api/readpath.py)."""
    return queries.feedback_items(conn, chain_id=services.deployment.chain_id, **params)


@router.get("/{item_id}", response_model=FeedbackItemDetail, responses={**NOT_FOUND, **INVALID})
def feedback_item(
    services: ServicesDep,
    session: ReadSessionDep,
    item_id: Annotated[int, Path(ge=1, le=INT64_MAX, description="The FeedbackBox item id.")],
    supports_limit: Annotated[
        int, Query(alias="supportsLimit", ge=1, le=200, description="Supporters per page.")
    ] = 50,
    supports_offset: Annotated[
        int, Query(alias="supportsOffset", ge=0, le=INT64_MAX, description="Supporters to skip.")
    ] = 0,
) -> dict[str, Any]:
    """One feedback item with its supporters, review, official answer, closure and moderation."""
    item = queries.feedback_item(
        session.connection(),
        chain_id=services.deployment.chain_id,
        item_id=item_id,
        supports_limit=supports_limit,
        supports_offset=supports_offset,
    )
    if item is None:
        raise HTTPException(
            404, f"no feedback item {item_id} in the mirror of chain {services.deployment.chain_id}"
        )
    return item
