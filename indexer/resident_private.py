"""A signed-in resident's own private data (`GET /v1/residents/me`): every feedback text they wrote,
hidden ones included (the public reads never show a hidden text), with its item in the mirror once
recorded. Erased texts are listed as erased, without text."""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, select

from ledger.feedback import FeedbackContent

from ._feedback_reads import FEEDBACK_STATUSES
from ._reads import Page, paged
from .models import FEEDBACK_ITEM

__all__ = ["own_feedback"]

_CONTENT: Table = FeedbackContent.__table__  # type: ignore[attr-defined]


def own_feedback(conn: Connection, *, chain_id: int, resident: str, limit: int, offset: int) -> Page:
    """The resident's feedback texts, newest first, one page, and how many there are in all."""
    c, f = _CONTENT.c, FEEDBACK_ITEM.c
    query = (
        select(
            c.content_hash, c.category, c.content, c.created_at, c.erased_at,
            f.item_id, f.status, f.hidden, f.support_count,
        )
        .select_from(
            _CONTENT.outerjoin(FEEDBACK_ITEM, and_(f.content_hash == c.content_hash, f.chain_id == chain_id))
        )
        .where(c.resident == resident)
    )  # fmt: skip
    rows, total = paged(conn, query, [c.created_at.desc(), c.content_hash], limit, offset)
    items = [
        {
            "contentHash": r.content_hash,
            "category": r.category,
            "content": r.content,
            "erased": r.erased_at is not None,
            "createdAt": r.created_at,
            "itemId": r.item_id,
            "status": None if r.status is None else FEEDBACK_STATUSES.get(r.status, str(r.status)),
            "hidden": bool(r.hidden) if r.hidden is not None else None,
            "supports": r.support_count,
        }
        for r in rows
    ]
    return {"items": items, "total": total}
