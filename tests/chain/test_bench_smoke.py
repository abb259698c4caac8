"""`esg-ledger bench indexer` at a small scale: the benchmark's own chain builder, cold indexing, live
phase and audit run end to end (its figures are not checked here: timings belong to the benchmark)."""

from __future__ import annotations

from bench.indexer import run
from bench.pipeline import pipeline


def test_indexer_benchmark_runs_end_to_end_and_audits_clean() -> None:
    figures = run(
        sessions=200, residents=40, live_seconds=2, ponder=False, postgres=False, progress=lambda _m: None
    )
    # 2 events per session, one commit per batch of 100, plus the deployment's own events
    assert figures["events"] >= 2 * 200 + 2
    assert figures["live_actions"] == 400
    assert figures["audit_mismatches"] == 0
    assert figures["audit_counts"]["plogging_session"] >= 200 + 400


def test_pipeline_benchmark_runs_end_to_end_and_loses_nothing() -> None:
    """`esg-ledger bench pipeline` at a small scale, against its own anvil and server: every action is
    seen in the mirror (the benchmark's watcher really reads it) and on chain exactly once."""
    figures = pipeline(
        residents=30, per_resident=3, concurrency=8, batch_size=30, timeout=120, log=lambda _m: None
    )
    assert figures["actions"] == 90
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["e2e_p50_ms"] > 0 and figures["batched_e2e_p50_ms"] > 0
    assert figures["gas_per_action"] is not None


def test_pipeline_benchmark_with_the_mix_records_every_kind_once() -> None:
    """`esg-ledger bench pipeline --mix` at a small scale: after its set-up (a session per resident, a
    partner, a cause, feedback items prepared over HTTP), every kind of the mix reaches the chain and
    the mirror exactly once, in all three phases."""
    figures = pipeline(
        residents=30, per_resident=3, concurrency=8, batch_size=30, mix=True, timeout=120, log=lambda _m: None
    )
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    offered = figures["per_kind_actions"]
    assert set(offered) == {"plogging", "feedback", "support", "redemption", "donation"}
    assert figures["per_kind_confirmed"] == offered
    assert sum(offered.values()) == 3 * 30 * 3
    assert figures["setup_actions"] > 3 * 30
