"""Official answers to feedback items, and the answer templates reviewers start from.

An official answer is public: its text lives in SQL (`feedback_answer_text`) and its plain
keccak256 of the UTF-8 text is what goes on chain (`FeedbackBox.answer(itemId, accepted,
answerHash)`), so anyone holding the text can check it against the chain. Unlike a resident's
feedback (ledger/feedback.py) there is no salt: nothing in an official answer is secret, and a
salt would only stop residents checking it.

Templates (`feedback_answer_template`) are per language; a reviewer fills one in, or answers many
items with the same text (bulk answers), and each answer stores the template it came from.
"""

from __future__ import annotations

import time

from eth_hash.auto import keccak
from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, Session, SQLModel, col, select

__all__ = [
    "MAX_ANSWER_CHARS",
    "AnswerTemplate",
    "OfficialAnswer",
    "answer_hash",
    "answers_by_hash",
    "create_template",
    "delete_template",
    "get_template",
    "list_templates",
    "store_answer",
    "update_template",
]

MAX_ANSWER_CHARS = 8_000


class OfficialAnswer(SQLModel, table=True):
    """An answer's text, keyed by the hash that goes on chain. Written before the answer is sent,
    so the text is there when the indexer sees `FeedbackAnswered`."""

    __tablename__ = "feedback_answer_text"

    answer_hash: str = Field(primary_key=True, max_length=66)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=16)
    chain_id: int = Field(sa_type=BigInteger)
    item_id: int = Field(sa_type=BigInteger, index=True)  # the first item answered with this text
    accepted: bool
    template_id: int | None = None
    author: str = Field(max_length=42)  # the reviewer's address
    created_at: float


class AnswerTemplate(SQLModel, table=True):
    """A reusable answer text in one language; `accepted` is the verdict it usually goes with."""

    __tablename__ = "feedback_answer_template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    language: str = Field(max_length=16, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    accepted: bool = True
    created_by: str = Field(max_length=42)
    created_at: float
    updated_at: float


def answer_hash(text: str) -> str:
    """keccak256 of the UTF-8 text, as `FeedbackBox.answer` records it."""
    return "0x" + keccak(text.encode("utf-8")).hex()


def store_answer(
    *,
    session: Session,
    chain_id: int,
    item_id: int,
    text: str,
    accepted: bool,
    language: str,
    author: str,
    template_id: int | None = None,
) -> str:
    """Keeps the text under its hash (once: the same text for another item reuses the row) and
    returns the hash to send on chain. The caller commits."""
    digest = answer_hash(text)
    if session.get(OfficialAnswer, digest) is None:
        session.add(
            OfficialAnswer(
                answer_hash=digest,
                text=text,
                language=language,
                chain_id=chain_id,
                item_id=item_id,
                accepted=accepted,
                template_id=template_id,
                author=author,
                created_at=time.time(),
            )
        )
    return digest


def answers_by_hash(*, session: Session, hashes: list[str]) -> dict[str, OfficialAnswer]:
    """The stored texts of these answer hashes that exist, by hash."""
    if not hashes:
        return {}
    query = select(OfficialAnswer).where(col(OfficialAnswer.answer_hash).in_(sorted(set(hashes))))
    return {a.answer_hash: a for a in session.exec(query)}


def create_template(
    *, session: Session, name: str, language: str, text: str, accepted: bool, created_by: str
) -> AnswerTemplate:
    now = time.time()
    row = AnswerTemplate(
        name=name,
        language=language,
        text=text,
        accepted=accepted,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_template(*, session: Session, template_id: int) -> AnswerTemplate | None:
    return session.get(AnswerTemplate, template_id)


def list_templates(
    *, session: Session, language: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[AnswerTemplate], int]:
    """Templates by name (one language, or all), a page of them and how many match."""
    query = select(AnswerTemplate)
    if language is not None:
        query = query.where(AnswerTemplate.language == language)
    total = len(session.exec(query).all())
    rows = session.exec(
        query.order_by(col(AnswerTemplate.name), col(AnswerTemplate.id)).offset(offset).limit(limit)
    )
    return list(rows), total


def update_template(
    *,
    session: Session,
    template_id: int,
    name: str | None = None,
    language: str | None = None,
    text: str | None = None,
    accepted: bool | None = None,
) -> AnswerTemplate | None:
    """Changes a template; answers already given keep the text they were given with."""
    row = session.get(AnswerTemplate, template_id)
    if row is None:
        return None
    if name is not None:
        row.name = name
    if language is not None:
        row.language = language
    if text is not None:
        row.text = text
    if accepted is not None:
        row.accepted = accepted
    row.updated_at = time.time()
    session.add(row)
    return row


def delete_template(*, session: Session, template_id: int) -> bool:
    row = session.get(AnswerTemplate, template_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
