"""The mirror's feedback reads: items with their text (shown unless hidden or erased), category name,
support threshold, supporters, review, answer, closure and moderation. Re-exported by queries.py."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, Table, bindparam, func, select

from ledger.answers import OfficialAnswer
from ledger.feedback import FeedbackContent
from ledger.types import checksum

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


# Statements built once with bind parameters: per request, building and compiling them cost more
# than SQLite answering them (docs/benchmarks.md, `bench api`).
_CHAIN: BindParameter[int] = bindparam("chain_id")
_CATEGORIES = select(FEEDBACK_CATEGORY.c.category, FEEDBACK_CATEGORY.c.name).where(
    FEEDBACK_CATEGORY.c.chain_id == _CHAIN
)
_THRESHOLD = (
    select(_SETTINGS.c.support_threshold)
    .where(_SETTINGS.c.chain_id == _CHAIN)
    .order_by(_SETTINGS.c.block_number.desc(), _SETTINGS.c.log_index.desc())
    .limit(1)
)
_ANSWERS = select(_ANSWER_TEXT.c.answer_hash, _ANSWER_TEXT.c.text).where(
    _ANSWER_TEXT.c.answer_hash.in_(bindparam("hashes", expanding=True))
)
_CONTENTS = select(_CONTENT.c.content_hash, _CONTENT.c.content).where(
    _CONTENT.c.content_hash.in_(bindparam("hashes", expanding=True))
)
_SUBMITTED = select(_SUBMISSION.c.item_id, _SUBMISSION.c.tx_hash).where(
    _SUBMISSION.c.chain_id == _CHAIN, _SUBMISSION.c.item_id.in_(bindparam("ids", expanding=True))
)


def _categories(conn: Connection, chain_id: int) -> dict[int, str]:
    return {int(r.category): str(r.name) for r in conn.execute(_CATEGORIES, {"chain_id": chain_id})}


def _support_threshold(conn: Connection, chain_id: int) -> int:
    latest = conn.execute(_THRESHOLD, {"chain_id": chain_id}).scalar()
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
    return {str(h).lower(): str(text) for h, text in conn.execute(_ANSWERS, {"hashes": sorted(hashes)})}


def _item_extras(f: Any) -> list[Any]:
    """What `feedback_public` would look up for each item, as correlated subqueries of its own row
    (`f`: the item's columns): whether the text is kept (and the text), the official answer's text,
    the submission's tx."""
    kept = _CONTENT.c.content_hash == f.content_hash
    return [
        select(_CONTENT.c.content_hash).where(kept).scalar_subquery().label("x_content_kept"),
        select(_CONTENT.c.content).where(kept).scalar_subquery().label("x_content"),
        select(_ANSWER_TEXT.c.text)
        .where(_ANSWER_TEXT.c.answer_hash == func.lower(f.answer_hash))
        .scalar_subquery()
        .label("x_answer_text"),
        select(_SUBMISSION.c.tx_hash)
        .where(_SUBMISSION.c.chain_id == f.chain_id, _SUBMISSION.c.item_id == f.item_id)
        .limit(1)
        .scalar_subquery()
        .label("x_submitted_tx"),
    ]


def item_select() -> Select[Any]:
    """`select(FEEDBACK_ITEM)` with what `feedback_public` needs of each row joined in: one statement
    for the page instead of one plus three lookups."""
    return select(FEEDBACK_ITEM, *_item_extras(FEEDBACK_ITEM.c))


class _Stored:
    def __init__(self, content: Any) -> None:
        self.content = content


def feedback_public(conn: Connection, chain_id: int, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """`feedback_item` rows in their public shape, with category name, threshold, text, submission tx,
    and the official answer's text once answered (joined in already for rows of `item_select()`)."""
    if not rows:
        return []
    names = _categories(conn, chain_id)
    threshold = _support_threshold(conn, chain_id)
    if "x_content_kept" in rows[0]._fields:
        answers = {r.answer_hash.lower(): r.x_answer_text for r in rows if r.answer_hash and r.x_answer_text}
        contents: dict[str, Any] = {
            r.content_hash: _Stored(r.x_content) for r in rows if r.x_content_kept is not None
        }
        submitted = {r.item_id: r.x_submitted_tx for r in rows if r.x_submitted_tx is not None}
    else:
        answers = _answer_texts(conn, {r.answer_hash.lower() for r in rows if r.answer_hash})
        contents = {
            r.content_hash: r
            for r in conn.execute(_CONTENTS, {"hashes": sorted({r.content_hash for r in rows})})
        }
        submitted = {
            r.item_id: r.tx_hash
            for r in conn.execute(_SUBMITTED, {"chain_id": chain_id, "ids": [r.item_id for r in rows]})
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


@functools.lru_cache(maxsize=64)
def _items_statements(filters: tuple[str, ...]) -> tuple[Any, Any]:
    """(count, page) for one combination of filters, with bind parameters for their values."""
    f = FEEDBACK_ITEM.c
    query = select(FEEDBACK_ITEM).where(f.chain_id == _CHAIN)
    columns = {"status": f.status, "area_code": f.area_code, "resident": f.author, "hidden": f.hidden}
    conditions: list[Any] = []
    for name in filters:
        if name == "category":
            conditions.append(f.category.in_(bindparam("category", expanding=True)))
        else:
            conditions.append(columns[name] == bindparam(name))
    query = query.where(*conditions)
    count = select(func.count()).select_from(query.subquery())
    # The page with the lookups joined in for its rows only. (The total as a window function in
    # the same statement would make SQLite read and sort every matching row, not just the page's.)
    inner = query.order_by(f.item_id.desc()).limit(bindparam("limit")).offset(bindparam("offset")).subquery()
    page = select(inner, *_item_extras(inner.c)).order_by(inner.c.item_id.desc())
    return count, page


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
    params: dict[str, Any] = {"chain_id": chain_id, "limit": limit, "offset": offset}
    if status is not None:
        params["status"] = {v: k for k, v in FEEDBACK_STATUSES.items()}[status]
    if category is not None:
        params["category"] = [
            i for i, n in _categories(conn, chain_id).items() if n.lower() == category.lower()
        ]
    if area_code is not None:
        params["area_code"] = area_code
    if resident is not None:
        params["resident"] = checksum(resident)
    if hidden is not None:
        params["hidden"] = hidden
    count, page = _items_statements(tuple(k for k in _FILTERS if k in params))
    total = int(conn.execute(count, params).scalar_one())
    rows = conn.execute(page, params).all()
    return {"items": feedback_public(conn, chain_id, rows), "total": total}


_FILTERS = ("status", "category", "area_code", "resident", "hidden")


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
    row = conn.execute(item_select().where(f.chain_id == chain_id, f.item_id == item_id)).first()
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
