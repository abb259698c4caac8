"""Feedback for reviewers and moderators: the queue, the overdue list, review, official answers (text in
SQL via ledger/answers.py, its keccak256 on chain), answer templates, bulk answers, closing, moderation."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer import staff_queries
from ledger import answers

from ..deps import ReadSessionDep, ServicesDep, SessionDep
from ._mirror import INT64_MAX, AreaCodeQuery, Limit, Offset
from ._staff import (
    ACTS,
    AUTH,
    MAX_BULK,
    NOT_FOUND,
    UINT16_MAX,
    BulkItemResult,
    BulkResponse,
    FeedbackStaff,
    Moderator,
    Reviewer,
    StaffActionResponse,
    bytes32,
    call,
    in_scope,
    refusal,
)
from .feedback import FeedbackItemWithAnswer

router = APIRouter(prefix="/v1/staff/feedback", tags=["staff: feedback"])

ItemPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The FeedbackBox item id.")]
TemplatePath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The answer template's id.")]
Status = Literal["submitted", "under_review", "answered", "closed"]
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
_TEXT = {"min_length": 1, "max_length": answers.MAX_ANSWER_CHARS, "pattern": r"\S"}


class StaffFeedbackPage(BaseModel):
    items: list[FeedbackItemWithAnswer]
    total: int


class OverdueItem(FeedbackItemWithAnswer):
    dueAt: int = Field(description="Unix seconds: when the obliged answer is due.")
    daysLeft: int = Field(description="Whole days until due, floored; negative once overdue.")
    overdue: bool


class OverduePage(BaseModel):
    items: list[OverdueItem]
    total: int


class AnswerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool | None = Field(
        default=None, description="Accept (rewards the author) or reject; default: the template's verdict."
    )
    text: str | None = Field(default=None, description="The answer; or give templateId.", **_TEXT)  # type: ignore[call-overload]
    templateId: int | None = Field(
        default=None, ge=1, le=INT64_MAX, description="Answer with this template's text."
    )
    language: str = Field(default="ko", pattern=LANGUAGE, description="The text's language (BCP 47).")

    @model_validator(mode="after")
    def _one_source(self) -> AnswerFields:
        if (self.text is None) == (self.templateId is None):
            raise ValueError("give either text or templateId")
        return self


class BulkAnswerBody(AnswerFields):
    itemIds: list[Annotated[int, Field(ge=1, le=INT64_MAX)]] = Field(min_length=1, max_length=MAX_BULK)


class ModerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hidden: bool = Field(description="true hides the item, false shows it again.")
    reasonCode: int = Field(
        ge=0, le=UINT16_MAX, description="From the moderation code list (0: unspecified)."
    )


class TemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")
    language: str = Field(pattern=LANGUAGE)
    text: str = Field(**_TEXT)  # type: ignore[call-overload]
    accepted: bool = True


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")
    language: str | None = Field(default=None, pattern=LANGUAGE)
    text: str | None = Field(default=None, **_TEXT)  # type: ignore[call-overload]
    accepted: bool | None = None


class TemplatePublic(BaseModel):
    id: int
    name: str
    language: str
    text: str
    accepted: bool
    answerHash: str = Field(description="keccak256 of the text, as it would go on chain.")
    createdBy: str
    createdAt: float
    updatedAt: float


class TemplatePage(BaseModel):
    items: list[TemplatePublic]
    total: int


def _template_public(t: answers.AnswerTemplate) -> dict[str, Any]:
    assert t.id is not None
    return {
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "text": t.text,
        "accepted": t.accepted,
        "answerHash": answers.answer_hash(t.text),
        "createdBy": t.created_by,
        "createdAt": t.created_at,
        "updatedAt": t.updated_at,
    }


def _scoped_item(session: Any, services: ServicesDep, principal: Any, item_id: int) -> None:
    area = staff_queries.feedback_area(
        session.connection(), chain_id=services.deployment.chain_id, item_id=item_id
    )
    if area is None:
        raise HTTPException(404, f"no feedback item {item_id} in the mirror")
    in_scope(principal, area)


def _answer_text(session: SessionDep, body: AnswerFields) -> tuple[str, bool, int | None]:
    if body.templateId is None:
        assert body.text is not None
        return body.text, True if body.accepted is None else body.accepted, None
    template = answers.get_template(session=session, template_id=body.templateId)
    if template is None:
        raise HTTPException(404, f"no answer template {body.templateId}")
    return template.text, template.accepted if body.accepted is None else body.accepted, template.id


@router.get("/queue", response_model=StaffFeedbackPage, responses=AUTH)
def queue(
    principal: FeedbackStaff,
    services: ServicesDep,
    session: ReadSessionDep,
    status: Annotated[Status | None, Query(description="Only items in this status.")] = None,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$", description="A category name."),
    ] = None,
    area_code: AreaCodeQuery = None,
    hidden: Annotated[bool | None, Query(description="Only hidden (true) or visible (false) items.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Feedback items in the member's areas, oldest first, by status, category, area and moderation."""
    return staff_queries.feedback_queue(
        session.connection(),
        chain_id=services.deployment.chain_id,
        areas=principal.areas,
        status=status,
        category=category,
        area_code=area_code,
        hidden=hidden,
        limit=limit,
        offset=offset,
    )


@router.get("/overdue", response_model=OverduePage, responses=AUTH)
def overdue(
    principal: FeedbackStaff,
    services: ServicesDep,
    session: ReadSessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Unanswered items past their support threshold, with due dates, sorted by days left."""
    return staff_queries.overdue_items(
        session.connection(),
        chain_id=services.deployment.chain_id,
        now=int(time.time()),
        areas=principal.areas,
        limit=limit,
        offset=offset,
    )


@router.post("/{item_id}/review", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def start_review(
    item_id: ItemPath, principal: Reviewer, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Takes a submitted item under review (FeedbackBox.startReview)."""
    _scoped_item(session, services, principal, item_id)
    return await call(services, principal, "FeedbackBox", "startReview", [item_id])


@router.post("/{item_id}/answer", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def answer(
    item_id: ItemPath, body: AnswerFields, principal: Reviewer, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Answers an item under review: the text is kept in SQL, its keccak256 sent with FeedbackBox.answer."""
    _scoped_item(session, services, principal, item_id)
    text, accepted, template_id = _answer_text(session, body)
    digest = answers.store_answer(
        session=session,
        chain_id=services.deployment.chain_id,
        item_id=item_id,
        text=text,
        accepted=accepted,
        language=body.language,
        author=principal.address,
        template_id=template_id,
    )
    session.commit()  # the text is in SQL before its hash can reach the chain
    return await call(services, principal, "FeedbackBox", "answer", [item_id, accepted, bytes32(digest)])


@router.post("/answers", response_model=BulkResponse, responses=AUTH | NOT_FOUND)
async def answer_bulk(
    body: BulkAnswerBody, principal: Reviewer, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Answers many items under review with one text or template; each is its own staff call."""
    text, accepted, template_id = _answer_text(session, body)
    results: list[BulkItemResult] = []
    for item_id in body.itemIds:
        try:
            _scoped_item(session, services, principal, item_id)
            digest = answers.store_answer(
                session=session,
                chain_id=services.deployment.chain_id,
                item_id=item_id,
                text=text,
                accepted=accepted,
                language=body.language,
                author=principal.address,
                template_id=template_id,
            )
            session.commit()
            result = await call(
                services, principal, "FeedbackBox", "answer", [item_id, accepted, bytes32(digest)]
            )
            results.append(BulkItemResult(key=str(item_id), result=StaffActionResponse(**result)))
        except Exception as exc:  # each entry stands alone: report it and go on
            session.rollback()
            results.append(BulkItemResult(key=str(item_id), error=refusal(exc)))
    return {"results": results}


@router.post("/{item_id}/close", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def close(
    item_id: ItemPath, principal: Reviewer, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """Closes an answered item (FeedbackBox.close)."""
    _scoped_item(session, services, principal, item_id)
    return await call(services, principal, "FeedbackBox", "close", [item_id])


@router.post("/{item_id}/moderate", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def moderate(
    item_id: ItemPath,
    body: ModerateBody,
    principal: Moderator,
    services: ServicesDep,
    session: ReadSessionDep,
) -> dict[str, Any]:
    """Hides an item with a reason code, or shows it again (FeedbackBox.moderate)."""
    _scoped_item(session, services, principal, item_id)
    return await call(services, principal, "FeedbackBox", "moderate", [item_id, body.hidden, body.reasonCode])


@router.get("/templates", response_model=TemplatePage, responses=AUTH)
def list_templates(
    _principal: Reviewer,
    session: ReadSessionDep,
    language: Annotated[str | None, Query(pattern=LANGUAGE, description="Only this language's.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Answer templates by name, in one language or all."""
    rows, total = answers.list_templates(session=session, language=language, limit=limit, offset=offset)
    return {"items": [_template_public(t) for t in rows], "total": total}


@router.post("/templates", status_code=201, response_model=TemplatePublic, responses=AUTH)
def create_template(body: TemplateBody, principal: Reviewer, session: SessionDep) -> dict[str, Any]:
    """Adds an answer template."""
    row = answers.create_template(session=session, created_by=principal.address, **body.model_dump())
    session.commit()
    return _template_public(row)


@router.get("/templates/{template_id}", response_model=TemplatePublic, responses=AUTH | NOT_FOUND)
def get_template(template_id: TemplatePath, _principal: Reviewer, session: ReadSessionDep) -> dict[str, Any]:
    """One answer template."""
    row = answers.get_template(session=session, template_id=template_id)
    if row is None:
        raise HTTPException(404, f"no answer template {template_id}")
    return _template_public(row)


@router.patch("/templates/{template_id}", response_model=TemplatePublic, responses=AUTH | NOT_FOUND)
def update_template(
    template_id: TemplatePath, body: TemplatePatch, _principal: Reviewer, session: SessionDep
) -> dict[str, Any]:
    """Changes an answer template; answers already given keep their text."""
    row = answers.update_template(
        session=session, template_id=template_id, **body.model_dump(exclude_none=True)
    )
    if row is None:
        raise HTTPException(404, f"no answer template {template_id}")
    session.commit()
    return _template_public(row)


@router.delete("/templates/{template_id}", status_code=204, responses=AUTH | NOT_FOUND)
def delete_template(template_id: TemplatePath, _principal: Reviewer, session: SessionDep) -> None:
    """Deletes an answer template."""
    if not answers.delete_template(session=session, template_id=template_id):
        raise HTTPException(404, f"no answer template {template_id}")
    session.commit()
