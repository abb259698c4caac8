"""`ledger.verify` keeps its own table of where each kind is recorded (it does not import the outbox's
models through `ledger.kinds`): it must say what the kinds' registry says."""

from __future__ import annotations

from ledger.kinds import KINDS
from ledger.verify import KIND_EVENTS


def test_the_verify_table_matches_the_kinds_registry() -> None:
    assert set(KIND_EVENTS) == set(KINDS)
    for name, kind in KINDS.items():
        ours = KIND_EVENTS[name]
        assert (ours.contract, ours.event, ours.digest_topic) == (
            kind.batch.contract,
            kind.batch.recorded_event,
            kind.batch.digest_topic,
        )
        assert ours.spec.topic0 == kind.batch.recorded_topic
