"""The indexer converges through a faulty node, and through kill -9 in the middle of bulk writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from indexer.errors import IndexerError
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.errors import ChainError
from ledger.settings import Settings

from ..faults import Answer, Decision, Error, FaultProxy, Forward, HttpFailure, Stall
from ..support import ROOT, Resident
from .activity import Activity
from .mirror import assert_mirror_equals_chain, database, make_indexer
from .scenario import Scenario


@pytest.fixture(scope="module")
def busy_chain(
    settings: Settings, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Activity:
    """About 1,800 events over ~12 blocks, with a failure event among them."""
    activity = Activity(settings, deployment, tmp_path_factory.mktemp("busy") / "relayer.db")
    residents = [Resident() for _ in range(150)]
    for _ in range(6):
        activity.record(residents)
    # The relayer's pre-flight keeps implausible sessions off the chain, so send three directly:
    # too fast, each an ActionFailed event in the mirror.
    scenario = Scenario(settings, deployment)
    scenario.record(*(scenario.session(r, distanceMeters=45_000, durationSeconds=600) for r in residents[:3]))
    activity.rpc.call("anvil_mine", ["0x28"])  # empty blocks: more ranges, more calls, more faults
    return activity


def test_indexer_converges_through_a_faulty_node(
    busy_chain: Activity, deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    rng = random.Random(20261122)
    head = int(rpc.call("eth_blockNumber"), 16)

    def decide(method: str, params: list[Any]) -> Decision:
        roll = rng.random()
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16)
            start = params[0]["fromBlock"]
            if span > 1:
                style = rng.choice(["alchemy", "infura", "plain"])
                if style == "alchemy":
                    suggestion = f"[{start}, {hex(int(start, 16) + 2)}]"
                    return Error(
                        -32602, f"Log response size exceeded. this block range should work: {suggestion}"
                    )
                if style == "infura":
                    return Error(
                        -32005,
                        "query returned more than 10000 results",
                        {"from": start, "to": hex(int(start, 16) + 1)},
                    )
                return Error(-32000, "query exceeds max results 10000, retry with a smaller block range")
            if int(params[0]["toBlock"], 16) >= head - 10 and roll < 0.4:
                return Answer([])  # a lagging node behind a load balancer
        if roll < 0.12:
            return Error(-32603, "internal error")
        if roll < 0.18:
            return HttpFailure(502)
        if roll < 0.21:
            return Stall(1.5)  # past the client's 1 s timeout
        return Forward()

    with FaultProxy(rpc.url, decide) as proxy:
        indexer = make_indexer(deployment, HttpRpc(proxy.url, timeout=1.0), database("sqlite", tmp_path))
        indexer.fetcher.backoff = 0.01
        for _ in range(200):
            try:
                if indexer.sync().indexed >= head:
                    break
            except (ChainError, IndexerError):
                continue  # the scheduler would run it again
        assert set(proxy.faults) == {"Error", "Answer", "HttpFailure", "Stall"}, proxy.faults
    assert_mirror_equals_chain(indexer, rpc, deployment)
    with indexer.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM action_failure")).scalar() == 3


def test_kill_9_during_bulk_writes_loses_and_doubles_nothing(
    busy_chain: Activity, deployment: Deployment, rpc: HttpRpc, settings: Settings, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "deployments").mkdir(parents=True)
    for manifest in (settings.data_dir / "deployments").glob("*.json"):
        (data_dir / "deployments" / manifest.name).write_text(manifest.read_text())
    env = {
        **os.environ,
        "ESG_ENV": "test",
        "ESG_RPC_URL": rpc.url,
        "ESG_DATA_DIR": str(data_dir),
        "ESG_INDEXER_MAX_RANGE": "1",
    }
    kills = 0
    for delay in (1.2, 1.5, 1.8, 2.1, 2.4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "index"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = subprocess.run(
        [sys.executable, "-m", "cli", "index"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr
    assert kills >= 1
    from ledger.db import make_engine

    indexer = make_indexer(deployment, rpc, make_engine(f"sqlite:///{data_dir / 'ledger.db'}"))
    assert_mirror_equals_chain(indexer, rpc, deployment)
