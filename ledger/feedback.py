"""Feedback-box content. The text is personal data: it lives only in SQL, keyed by the hash that goes
on-chain, and can be erased without breaking the audit trail (the hash stays everywhere).

The hash is a salted commitment, keccak256(salt ‖ utf-8 text) with 32 random bytes of salt: a bare
hash of a short opinion ("yes", a name) could be guessed from the chain by hashing candidates.
Erasing forgets the text and the salt, after which the on-chain hash reveals nothing.
"""

from __future__ import annotations

import os
import time

from eth_hash.auto import keccak
from sqlalchemy import Column, Text, text
from sqlmodel import Field, Session, SQLModel

from .errors import ActionConflictError


class FeedbackContent(SQLModel, table=True):
    __tablename__ = "feedback_content"

    content_hash: str = Field(primary_key=True, max_length=66)
    resident: str = Field(max_length=42, index=True)
    category: str = Field(max_length=64)
    content: str | None = Field(default=None, sa_column=Column(Text))
    salt: str | None = Field(default=None, max_length=66)
    created_at: float
    erased_at: float | None = None
    erase_reason: str | None = Field(default=None, max_length=200)


def content_hash(content: str, salt: bytes) -> str:
    return "0x" + keccak(salt + content.encode("utf-8")).hex()


def category_id(*, session: Session, chain_id: int, name: str) -> int:
    """The on-chain id of an enabled category, by its name as the ESG team set it (case-insensitive)."""
    rows = session.execute(
        text("SELECT category, name FROM feedback_category WHERE chain_id = :chain AND enabled"),
        {"chain": chain_id},
    ).all()
    by_name = {str(n).lower(): int(c) for c, n in rows}
    if name.lower() not in by_name:
        known = ", ".join(sorted(by_name)) or "none yet (the indexer has not seen any)"
        raise ActionConflictError(
            f"unknown category {name!r}; open categories: {known}", field="payload.category"
        )
    return by_name[name.lower()]


def store_content(*, session: Session, resident: str, category: str, content: str) -> str:
    """Keeps the text and a fresh salt under their hash; returns the hash the resident signs."""
    salt = os.urandom(32)
    digest = content_hash(content, salt)
    session.add(
        FeedbackContent(
            content_hash=digest,
            resident=resident,
            category=category,
            content=content,
            salt="0x" + salt.hex(),
            created_at=time.time(),
        )
    )
    return digest


def erase_content(*, session: Session, content_hash: str, reason: str) -> bool:
    """Forgets the text (the hash and the on-chain record stay); returns whether there was text to erase."""
    row = session.get(FeedbackContent, content_hash.lower())
    if row is None or row.content is None:
        return False
    row.content, row.salt, row.erased_at, row.erase_reason = None, None, time.time(), reason
    session.add(row)
    return True
