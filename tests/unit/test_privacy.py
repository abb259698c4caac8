"""ledger.privacy on a real migrated SQLite: what an erasure removes, what it keeps (hashes, other
residents' data, the parts of a shared webhook answer that are not theirs), and its log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import Engine
from sqlmodel import Session, select

from ledger.custody import LocalMasterKey
from ledger.custody.wallets import create_wallet
from ledger.db import make_engine, session_scope
from ledger.desk import AssistedAction
from ledger.errors import PrivacyError
from ledger.feedback import FeedbackContent, store_content
from ledger.models import CustodialWallet
from ledger.platforms.models import WebhookDelivery
from ledger.privacy import ERASED_REFERENCE, ERASED_TABLES, PrivacyErasure, erase_resident, erasures
from ledger.resident_sessions import ResidentSession
from migrations import migrate


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(e)
    yield e
    e.dispose()


def test_the_migration_makes_exactly_the_erasure_log(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, SQLModel.metadata) if "privacy_erasure" in repr(d)]
    assert diffs == []


def _seed(session: Session) -> tuple[str, str, dict[str, str]]:
    keys = LocalMasterKey(b"\x07" * 32)
    wallet, _ = create_wallet(session=session, subject="city-app:kim-77", platform_id="city-app", keys=keys)
    mine, other = wallet.address, Account.create().address
    hashes = {
        "mine": store_content(
            session=session, resident=mine, category="environment", content="my phone 010-1"
        ),
        "other": store_content(session=session, resident=other, category="environment", content="benches"),
    }
    for address, token in ((mine, "a" * 64), (mine, "b" * 64), (other, "c" * 64)):
        session.add(ResidentSession(token_hash=token, address=address, created_at=1.0, expires_at=2.0))
    results = [{"userId": "kim-77", "resident": mine, "id": "0x01"}, {"userId": "lee-9", "resident": other}]
    session.add(
        WebhookDelivery(
            platform_id="city-app",
            event_id="evt_1",
            body_hash="00" * 32,
            status_code=200,
            result=json.dumps({"id": "evt_1", "results": results}),
            created_at=1.0,
        )
    )
    for action_id, address, reference in (
        ("0x" + "01" * 32, mine, "case-2026-118"),
        ("0x" + "02" * 32, other, "case-7"),
    ):
        session.add(
            AssistedAction(
                action_id=action_id,
                resident=address,
                reference=reference,
                staff_member_id=1,
                staff_address=Account.create().address,
                consent_hash="0x" + "cd" * 32,
                kind="plogging",
                created_at=1.0,
            )
        )
    return mine, other, hashes


def test_an_erasure_removes_the_residents_data_keeps_hashes_and_others_and_is_logged(engine: Engine) -> None:
    with session_scope(engine) as s:
        mine, other, hashes = _seed(s)
    with session_scope(engine) as s:
        erasure = erase_resident(session=s, resident=mine.lower(), erased_by="staff:0xabc", now=time.time())
    assert erasure.resident == mine and erasure.erased_by == "staff:0xabc"
    assert erasure.counts == {
        "feedback_content": 1,
        "webhook_delivery": 1,
        "custodial_wallet": 1,
        "resident_session": 2,
        "assisted_action": 1,
    }
    assert list(erasure.counts) == list(ERASED_TABLES)
    with Session(engine) as s:
        gone = s.get(FeedbackContent, hashes["mine"])
        assert gone is not None and gone.content is None and gone.salt is None and gone.erased_at is not None
        kept = s.get(FeedbackContent, hashes["other"])
        assert kept is not None and kept.content == "benches" and kept.salt is not None
        assert s.get(CustodialWallet, "city-app:kim-77") is None
        sessions = s.exec(select(ResidentSession)).all()
        assert [r.address for r in sessions] == [other]
        assisted = {a.resident: a for a in s.exec(select(AssistedAction)).all()}
        assert (
            assisted[mine].reference == ERASED_REFERENCE and assisted[mine].consent_hash == "0x" + "cd" * 32
        )
        assert assisted[other].reference == "case-7"
        stored = s.get(WebhookDelivery, ("city-app", "evt_1"))
        assert stored is not None and stored.result is not None
        result = json.loads(stored.result)
        assert result["results"] == [
            {"userId": None, "resident": mine, "id": "0x01"},
            {"userId": "lee-9", "resident": other},
        ]
        (row,) = s.exec(select(PrivacyErasure)).all()
        assert "kim-77" not in row.counts and "010" not in row.counts
    with session_scope(engine) as s:
        again = erase_resident(session=s, resident=mine, erased_by="cli:ticket-1", now=time.time())
    assert set(again.counts.values()) == {0}
    with Session(engine) as s:
        assert [e.id for e in erasures(session=s)] == [again.id, erasure.id]
        assert erasures(session=s, resident=other) == []


@pytest.mark.parametrize(
    ("resident", "by", "field"),
    [
        ("0x1234", "cli", "resident"),
        ("not an address", "cli", "resident"),
        ("0x" + "11" * 20, " ", "erased_by"),
    ],
)
def test_refused_erasures(engine: Engine, resident: str, by: str, field: str) -> None:
    with session_scope(engine) as s, pytest.raises(PrivacyError) as caught:
        erase_resident(session=s, resident=resident, erased_by=by, now=1.0)
    assert caught.value.field == field
    with Session(engine) as s:
        assert s.exec(select(PrivacyErasure)).all() == []
