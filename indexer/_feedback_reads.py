"""The mirror's feedback reads: items with their text (shown unless hidden or erased), category name,
support threshold, supporters, review, answer, closure and moderation. Re-exported by queries.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, Table, select

from ledger.answers import OfficialAnswer
from ledger.feedback import FeedbackContent

from ._reads import Page, paged, position
from .models import EVENT_TABLES, FEEDBACK_CATEGORY, FEEDBACK_ITEM

# IFeedbackBox.ItemStatus by value, in the API's words
FEEDBACK_STATUSES = {1: "submitted", 2: "under_review", 3: "answered", 4: "closed"}

_SUBMISSION = EVENT_TABLES["feedback_submission"]
_SUPPORT = EVENT_TABLES["feedback_support"]
_ANSWER = EVENT_TABLES["feedback_answer"]
_REVIEW_START = EVENT_TABLES["feedback_review_start"]
_CLOSURE = EVENT_TABLES["feedback_closure"]
_MODERATION = EVENT_TABLES["feedback_moderation"]
_SETTINGS = EVENT_TABLES["feedback_settings_update"]
_CONTENT: Table = FeedbackContent.__table__  # type: ignore[attr-defined]
_ANSWER_TEXT: Table = OfficialAnswer.__table__  # type: ignore[attr-defined]


def _categories(conn: Connection, chain_id: int) -> dict[int, str]:
    c = FEEDBACK_CATEGORY.c
    return {
        int(r.category): str(r.name)
        for r in conn.execute(select(c.category, c.name).where(c.chain_id == chain_id))
    }


def _support_threshold(conn: Connection, chain_id: int) -> int:
    s = _SETTINGS.c
    latest = conn.execute(
        select(s.support_threshold)
        .where(s.chain_id == chain_id)
        .order_by(s.block_number.desc(), s.log_index.desc())
        .limit(1)
    ).scalar()
    return int(latest or 0)


def _content_state(hidden: bool, stored: Any) -> tuple[str | None, str]:
    if stored is None:
        return None, "missing"  # submitted without this ledger keeping the text
    if stored.content is None:
        return None, "erased"
    if hidden:
        return None, "hidden"
    return str(stored.content), "shown"


def _answer_texts(conn: Connection, hashes: set[str]) -> dict[str, str]:
    """Official answers' texts by their on-chain hash (ledger/answers.py); absent when not kept here."""
    if not hashes:
        return {}
    t = _ANSWER_TEXT.c
    return {
        str(h).lower(): str(text)
        for h, text in conn.execute(select(t.answer_hash, t.text).where(t.answer_hash.in_(sorted(hashes))))
    }


def feedback_public(conn: Connection, chain_id: int, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """`feedback_item` rows in their public shape, with category name, threshold, text, submission tx,
    and the official answer's text once answered."""
    if not rows:
        return []
    answers = _answer_texts(conn, {r.answer_hash.lower() for r in rows if r.answer_hash})
    names = _categories(conn, chain_id)
    threshold = _support_threshold(conn, chain_id)
    contents = {
        r.content_hash: r
        for r in conn.execute(
            select(_CONTENT.c.content_hash, _CONTENT.c.content).where(
                _CONTENT.c.content_hash.in_({r.content_hash for r in rows})
            )
        )
    }
    sub = _SUBMISSION.c
    submitted = {
        r.item_id: r.tx_hash
        for r in conn.execute(
            select(sub.item_id, sub.tx_hash).where(
                sub.chain_id == chain_id, sub.item_id.in_([r.item_id for r in rows])
            )
        )
    }
    out = []
    for r in rows:
        content, state = _content_state(r.hidden, contents.get(r.content_hash))
        out.append(
            {
                "id": r.item_id,
                "digest": r.digest,
                "resident": r.author,
                "status": FEEDBACK_STATUSES.get(r.status, str(r.status)),
                "category": names.get(r.category),
                "categoryId": r.category,
                "areaCode": r.area_code,
                "supports": r.support_count,
                "threshold": threshold,
                "thresholdReached": r.answer_due_at is not None,
                "answerDueAt": r.answer_due_at,
                "accepted": r.accepted,
                "answerText": answers.get(r.answer_hash.lower()) if r.answer_hash else None,
                "hidden": r.hidden,
                "content": content,
                "contentState": state,
                "contentHash": r.content_hash,
                "submittedBlock": r.submitted_block,
                "submittedTx": submitted.get(r.item_id),
                "updatedBlock": r.updated_block,
            }
        )
    return out


def feedback_items(
    conn: Connection,
    *,
    chain_id: int,
    status: str | None = None,
    category: str | None = None,
    area_code: int | None = None,
    resident: str | None = None,
    hidden: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Feedback items, newest first; `category` is a category's name (case-insensitive)."""
    f = FEEDBACK_ITEM.c
    query = select(FEEDBACK_ITEM).where(f.chain_id == chain_id)
    if status is not None:
        query = query.where(f.status == {v: k for k, v in FEEDBACK_STATUSES.items()}[status])
    if category is not None:
        ids = [i for i, n in _categories(conn, chain_id).items() if n.lower() == category.lower()]
        query = query.where(f.category.in_(ids))
    if area_code is not None:
        query = query.where(f.area_code == area_code)
    if resident is not None:
        query = query.where(f.author == to_checksum_address(resident))
    if hidden is not None:
        query = query.where(f.hidden == hidden)
    rows, total = paged(conn, query, [f.item_id.desc()], limit, offset)
    return {"items": feedback_public(conn, chain_id, rows), "total": total}


def _latest(conn: Connection, table: Table, chain_id: int, item_id: int) -> Any:
    return conn.execute(
        select(table)
        .where(table.c.chain_id == chain_id, table.c.item_id == item_id)
        .order_by(table.c.block_number.desc(), table.c.log_index.desc())
        .limit(1)
    ).first()


def feedback_item(
    conn: Connection, *, chain_id: int, item_id: int, supports_limit: int = 50, supports_offset: int = 0
) -> dict[str, Any] | None:
    """One item with its supporters (a page, oldest first), review, answer, closure and moderation."""
    f = FEEDBACK_ITEM.c
    row = conn.execute(select(FEEDBACK_ITEM).where(f.chain_id == chain_id, f.item_id == item_id)).first()
    if row is None:
        return None
    (item,) = feedback_public(conn, chain_id, [row])
    s = _SUPPORT.c
    supports, total = paged(
        conn,
        select(_SUPPORT).where(s.chain_id == chain_id, s.item_id == item_id),
        [s.block_number, s.log_index],
        supports_limit,
        supports_offset,
    )
    answer = _latest(conn, _ANSWER, chain_id, item_id)
    review = _latest(conn, _REVIEW_START, chain_id, item_id)
    closure = _latest(conn, _CLOSURE, chain_id, item_id)
    m = _MODERATION.c
    moderation = conn.execute(
        select(_MODERATION)
        .where(m.chain_id == chain_id, m.item_id == item_id)
        .order_by(m.block_number, m.log_index)
    ).all()
    return item | {
        "supporters": {
            "items": [{"resident": r.resident, "digest": r.digest, **position(r)} for r in supports],
            "total": total,
        },
        "review": None if review is None else {"reviewer": review.reviewer, **position(review)},
        "answer": None
        if answer is None
        else {
            "accepted": answer.accepted,
            "answerHash": answer.answer_hash,
            "reviewer": answer.reviewer,
            "reward": answer.reward,
            "text": _answer_texts(conn, {answer.answer_hash.lower()}).get(answer.answer_hash.lower()),
            **position(answer),
        },
        "closed": None if closure is None else {"reviewer": closure.reviewer, **position(closure)},
        "moderation": [
            {"hidden": r.hidden, "reasonCode": r.reason_code, "moderator": r.moderator, **position(r)}
            for r in moderation
        ],
    }
