"""Feedback text is erasable: the text and salt go, the hash (and so the audit trail) stays."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from ledger.db import make_engine
from ledger.feedback import FeedbackContent, content_hash, erase_content, store_content
from migrations import migrate


def test_erasure_forgets_text_and_salt_and_keeps_the_hash(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    with Session(engine) as session:
        digest = store_content(
            session=session, resident="0x" + "11" * 20, category="safety", content="가로등 고장"
        )
        session.commit()
        row = session.get(FeedbackContent, digest)
        assert row is not None and row.salt is not None
        assert content_hash("가로등 고장", bytes.fromhex(row.salt[2:])) == digest
        assert erase_content(session=session, content_hash=digest, reason="resident's request") is True
        session.commit()
        assert erase_content(session=session, content_hash=digest, reason="again") is False
    with Session(engine) as session:
        erased = session.get(FeedbackContent, digest)
        assert erased is not None
        assert (erased.content, erased.salt, erased.erase_reason) == (None, None, "resident's request")
        assert erased.erased_at is not None
