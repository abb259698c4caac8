"""Webhook signatures and re-authentication assertions (HMAC-SHA256 over the raw bytes), and the
delivery record that makes an event id idempotent, on a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from ledger.db import make_engine
from ledger.errors import ReauthRequiredError, WebhookError
from ledger.platforms import sign, sign_reauth, verify_reauth, verify_webhook
from ledger.platforms.deliveries import LEASE, body_hash, claim, finish
from ledger.platforms.models import WebhookDelivery
from migrations import migrate

SECRET = b"whsec_unit-test-secret-0123456789abcdefghijklmnop"
BODY = b'{"id":"evt_1","actions":[{"userId":"u1","kind":"plogging","payload":{}}]}'
NOW = 1_900_000_000.0
TOLERANCE = 300.0


def _verify(body: bytes, timestamp: str | None, signature: str | None, secret: bytes = SECRET) -> int:
    return verify_webhook(
        secret=secret, body=body, timestamp=timestamp, signature=signature, now=NOW, tolerance=TOLERANCE
    )


def _code(exc: pytest.ExceptionInfo[WebhookError] | pytest.ExceptionInfo[ReauthRequiredError]) -> str:
    return str(exc.value.code)


def test_a_signed_body_verifies_and_returns_its_timestamp() -> None:
    ts = int(NOW) - 10
    assert _verify(BODY, str(ts), sign(SECRET, ts, BODY)) == ts


def test_wrong_secret_altered_body_stale_and_missing_are_told_apart() -> None:
    ts = int(NOW)
    good = sign(SECRET, ts, BODY)
    with pytest.raises(WebhookError) as wrong:
        _verify(BODY, str(ts), sign(b"whsec_another-platforms-secret", ts, BODY))
    assert _code(wrong) == "webhook_signature_mismatch" and wrong.value.status == 401
    with pytest.raises(WebhookError) as altered:
        _verify(BODY.replace(b"u1", b"u2"), str(ts), good)
    assert _code(altered) == "webhook_signature_mismatch"
    with pytest.raises(WebhookError) as moved:  # the same signature under another timestamp
        _verify(BODY, str(ts + 1), good)
    assert _code(moved) == "webhook_signature_mismatch"
    old = ts - int(TOLERANCE) - 1
    with pytest.raises(WebhookError) as stale:
        _verify(BODY, str(old), sign(SECRET, old, BODY))
    assert _code(stale) == "webhook_timestamp_stale" and stale.value.field == "Webhook-Timestamp"
    future = ts + int(TOLERANCE) + 1
    with pytest.raises(WebhookError) as ahead:
        _verify(BODY, str(future), sign(SECRET, future, BODY))
    assert _code(ahead) == "webhook_timestamp_stale"
    with pytest.raises(WebhookError) as missing:
        _verify(BODY, str(ts), None)
    assert _code(missing) == "webhook_signature_missing" and missing.value.field == "Webhook-Signature"
    with pytest.raises(WebhookError) as no_ts:
        _verify(BODY, None, good)
    assert _code(no_ts) == "webhook_signature_missing" and no_ts.value.field == "Webhook-Timestamp"
    with pytest.raises(WebhookError) as malformed:
        _verify(BODY, str(ts), "sha256=" + "0" * 64)
    assert _code(malformed) == "webhook_signature_malformed"
    with pytest.raises(WebhookError) as bad_ts:
        _verify(BODY, "yesterday", good)
    assert _code(bad_ts) == "webhook_timestamp_invalid"


def test_any_of_several_signatures_may_match_during_a_secret_rotation() -> None:
    ts = int(NOW)
    both = sign(b"whsec_the-old-secret", ts, BODY) + ", " + sign(SECRET, ts, BODY)
    assert _verify(BODY, str(ts), both) == ts


@settings(max_examples=60, deadline=None)
@given(body=st.binary(min_size=1, max_size=512), flip=st.integers(min_value=0), skew=st.integers(-300, 300))
def test_every_single_bit_flip_of_a_signed_body_is_refused(body: bytes, flip: int, skew: int) -> None:
    ts = int(NOW) + skew
    signature = sign(SECRET, ts, body)
    assert _verify(body, str(ts), signature) == ts
    i = flip % (len(body) * 8)
    altered = bytearray(body)
    altered[i // 8] ^= 1 << (i % 8)
    with pytest.raises(WebhookError):
        _verify(bytes(altered), str(ts), signature)


def test_a_reauth_assertion_is_bound_to_its_subject_and_fresh() -> None:
    ts = int(NOW)
    assertion = sign_reauth(SECRET, "metaseoul:user-1", ts)
    kw = {"secret": SECRET, "now": NOW, "tolerance": TOLERANCE}
    assert verify_reauth(subject="metaseoul:user-1", timestamp=str(ts), signature=assertion, **kw) == ts  # type: ignore[arg-type]
    with pytest.raises(ReauthRequiredError) as other:
        verify_reauth(subject="metaseoul:user-2", timestamp=str(ts), signature=assertion, **kw)  # type: ignore[arg-type]
    assert _code(other) == "reauth_signature_mismatch"
    with pytest.raises(ReauthRequiredError) as none:
        verify_reauth(subject="metaseoul:user-1", timestamp=None, signature=None, **kw)  # type: ignore[arg-type]
    assert _code(none) == "reauth_required" and none.value.status == 401
    old = ts - 301
    with pytest.raises(ReauthRequiredError) as stale:
        verify_reauth(
            subject="metaseoul:user-1",
            timestamp=str(old),
            signature=sign_reauth(SECRET, "metaseoul:user-1", old),
            **kw,  # type: ignore[arg-type]
        )
    assert _code(stale) == "reauth_timestamp_stale"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_an_event_id_is_claimed_once_and_answered_the_same_after(engine: Engine) -> None:
    digest = body_hash(BODY)
    with Session(engine) as session:
        assert claim(session=session, platform_id="p", event_id="evt_1", digest=digest, now=NOW) is None
        with pytest.raises(WebhookError) as busy:  # the first delivery still runs
            claim(session=session, platform_id="p", event_id="evt_1", digest=digest, now=NOW + 1)
        assert busy.value.code == "webhook_delivery_in_progress" and busy.value.status == 409
        finish(
            session=session, platform_id="p", event_id="evt_1", status_code=200, body={"ok": 1}, now=NOW + 2
        )
        again = claim(session=session, platform_id="p", event_id="evt_1", digest=digest, now=NOW + 3)
        assert again is not None and again.status_code == 200 and again.body == {"ok": 1}
        with pytest.raises(WebhookError) as conflict:
            claim(
                session=session, platform_id="p", event_id="evt_1", digest=body_hash(BODY + b" "), now=NOW + 4
            )
        assert conflict.value.code == "webhook_event_conflict" and conflict.value.status == 409
        # another platform's event with the same id is its own
        assert claim(session=session, platform_id="q", event_id="evt_1", digest=digest, now=NOW) is None
        assert len(session.exec(select(WebhookDelivery)).all()) == 2


def test_a_claim_that_never_finished_is_taken_over_after_its_lease(engine: Engine) -> None:
    digest = body_hash(BODY)
    with Session(engine) as session:
        assert claim(session=session, platform_id="p", event_id="evt_9", digest=digest, now=NOW) is None
        assert (
            claim(session=session, platform_id="p", event_id="evt_9", digest=digest, now=NOW + LEASE + 1)
            is None
        )
        with pytest.raises(WebhookError):
            claim(session=session, platform_id="p", event_id="evt_9", digest=digest, now=NOW + LEASE + 2)


def test_the_migration_makes_exactly_the_platform_tables_of_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import ledger.models
    import ledger.platforms.models  # noqa: F401

    def ours(diff: object) -> bool:
        text = repr(diff)
        return any(t in text for t in ("'platform'", "webhook_delivery", "custodial_wallet"))

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, SQLModel.metadata) if ours(d)]
    assert diffs == []
