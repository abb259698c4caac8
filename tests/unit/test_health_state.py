"""Public health from the jobs' state: stable codes, worst check wins, no exception text anywhere."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from indexer.errors import ReorgTooDeepError
from ledger.errors import ChainError, RpcError
from ledger.health import HealthState, JobRun, JobsMonitor, StateFile, assess, error_code

NOW = 1_800_000_000.0


def state(**overrides: Any) -> HealthState:
    values: dict[str, Any] = {
        "written_at": NOW - 1,
        "started_at": NOW - 100,
        "chain_id": 31337,
        "head": 100,
        "head_changed_at": NOW - 1,
        "indexed": 100,
        "jobs": {"relayer": JobRun(NOW - 0.5), "indexer": JobRun(NOW - 0.5)},
        **overrides,
    }
    return HealthState(**values)


def judge(
    s: HealthState | None, database_ok: bool = True, **kw: Any
) -> tuple[str, dict[str, tuple[str, str]]]:
    health = assess(s, now=NOW, database_ok=database_ok, stale_after=15, max_lag=20, **kw)
    return health.status, {name: (c.status, c.code) for name, c in health.checks.items()}


def test_all_well_is_ok() -> None:
    status, checks = judge(state())
    assert status == "ok"
    assert checks == {name: ("ok", "ok") for name in ("database", "jobs", "chain", "indexer", "relayer")}


def test_each_problem_has_its_code_and_severity() -> None:
    failing = {"relayer": JobRun(NOW - 0.5), "indexer": JobRun(NOW - 0.5, "node_unreachable")}
    cases = [
        (judge(None), "down", "jobs", "jobs_starting"),
        (
            judge(state(jobs={"relayer": JobRun(NOW)}, started_at=NOW - 5)),
            "degraded",
            "indexer",
            "job_starting",
        ),
        (judge(state(jobs={"relayer": JobRun(NOW)})), "degraded", "indexer", "job_stalled"),  # 100 s in
        (judge(state(), database_ok=False), "down", "database", "database_unavailable"),
        (judge(state(written_at=NOW - 60)), "down", "jobs", "jobs_stale"),
        (judge(state(jobs=failing)), "down", "chain", "node_unreachable"),
        (
            judge(state(jobs={**failing, "indexer": JobRun(NOW, "reorg_too_deep")})),
            "down",
            "indexer",
            "reorg_too_deep",
        ),
        (
            judge(state(jobs={"indexer": JobRun(NOW), "relayer": JobRun(NOW - 60)})),
            "degraded",
            "relayer",
            "job_stalled",
        ),
        (judge(state(indexed=50)), "degraded", "indexer", "indexer_lagging"),
        (judge(state(node_behind=True)), "degraded", "chain", "node_behind"),
        (judge(state(head_changed_at=NOW - 120), head_stall_seconds=60), "degraded", "chain", "head_stalled"),
        (judge(state(alarms=["balance:0xabc"])), "degraded", "relayer", "relayer_balance_low"),
        (judge(state(alarms=["stuck:0xabc"])), "degraded", "relayer", "fee_cap_reached"),
        (judge(state(alarms=["balance:0xabc", "roles"])), "down", "relayer", "relayer_role_missing"),
        (judge(state(alarms=["deployment"])), "down", "relayer", "contracts_missing"),
    ]
    for (status, checks), want_status, check, code in cases:
        assert (status, checks[check]) == (want_status, (want_status, code)), (check, code, checks)


def test_errors_map_to_codes_not_text() -> None:
    assert (
        error_code("indexer", ChainError("http://node.example/v2/SECRET: connection refused"))
        == "node_unreachable"
    )
    assert error_code("relayer", RpcError("eth_call", -32000, "boom")) == "node_error"
    assert error_code("indexer", ReorgTooDeepError(31337, 100, 36)) == "reorg_too_deep"
    assert error_code("relayer", ValueError("x")) == "relayer_failed"


def test_the_monitor_writes_a_file_every_worker_reads(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    reader = StateFile(path)
    assert reader.read() is None
    monitor = JobsMonitor(path, chain_id=31337)
    assert monitor.ran("indexer", None) is True  # a first outcome is news
    assert monitor.ran("indexer", None) is False
    assert monitor.ran("indexer", ChainError("down")) is True
    monitor.observe(
        head=7,
        head_changed_at=time.time(),
        indexed=5,
        node_behind=False,
        last_sync_at=None,
        reorgs=0,
        alarms={"balance:0xabc": "relayer 0xabc holds 0.1 ETH"},
        balances={"0xabc": 10**22},  # above 2^64 wei: kept exactly
    )
    monitor.write()
    read = reader.read()
    assert read is not None
    assert (read.head, read.indexed, read.balances, read.alarms) == (
        7,
        5,
        {"0xabc": 10**22},
        ["balance:0xabc"],
    )
    assert read.jobs["indexer"].error == "node_unreachable"
    assert "holds" not in path.read_text()  # the alarm's text stays in the log
    monitor.ran("indexer", None)
    monitor.write()
    again = reader.read()
    assert again is not None and again.jobs["indexer"].error is None
