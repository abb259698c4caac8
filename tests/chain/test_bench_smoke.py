"""`esg-ledger bench indexer` at a small scale: the benchmark's own chain builder, cold indexing, live
phase and audit run end to end (its figures are not checked here: timings belong to the benchmark)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.api import run as api_bench
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


def test_api_benchmark_runs_end_to_end_with_answers_equal_to_the_baseline() -> None:
    """`esg-ledger bench api` at a small scale: the database is built, then reused from its cache; the
    product and the bare baseline both serve every read (no errors) and answer the sampled reads
    identically, so the baseline really does the product's work. Timings are not checked."""
    # a directory of its own, not tmp_path: pytest sessions running side by side on one machine prune
    # each other's older base temp directories, and the cache must outlive the first run
    with tempfile.TemporaryDirectory(prefix="esg-bench-api-test-") as cache:
        _api_benchmark(Path(cache))


def _api_benchmark(tmp_path: Path) -> None:
    kw: dict[str, Any] = {
        "actions": 3_000,
        "residents": 300,
        "seconds": 1.0,
        "warmup": 0.2,
        "rate": 100.0,
        "rounds": 1,
        "cache": tmp_path,
        "log": lambda _m: None,
    }
    figures = api_bench(**kw)
    for key in ("read_rps", "read_p50_ms", "read_p99_ms", "baseline_rps", "ratio_vs_baseline"):
        assert isinstance(figures[key], int | float) and figures[key] > 0, key
    assert figures["read_p99_ms"] >= figures["read_p50_ms"]
    parity = figures["baseline_parity"]
    assert parity["compared"] > 0 and parity["equal"] == parity["compared"], parity["differ"]
    for server in ("product", "baseline"):
        for phase in ("closed_loop", "open_loop"):
            result = figures["phases"][server][phase]
            assert result["errors"] == 0 and result["requests"] > 0, (server, phase, result["statuses"])
            assert set(result["by_route"]) == {"resident", "action", "feedback"}
    rows = figures["dataset"]["rows"]
    assert rows["action"] == 3_000
    assert sum(n for k, n in rows.items() if k.startswith("actions_")) == 3_000
    assert not figures["dataset"]["reused"]
    again = api_bench(**(kw | {"baseline": False}))
    assert again["dataset"]["reused"] and again["baseline_rps"] is None and again["read_rps"] > 0
