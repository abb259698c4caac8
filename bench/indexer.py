"""`esg-ledger bench indexer`: the same ~200,000 events on one anvil, indexed cold by ours into SQLite,
ours into PostgreSQL and Ponder 0.16.10; then live lag while 200 actions/s arrive in 1 s blocks; then
the audit. Method and figures: docs/benchmarks.md.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from indexer.audit import reconcile
from indexer.runner import Indexer
from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine
from ledger.deploy import Deployment, deploy
from ledger.node import AnvilNode
from ledger.pgcluster import ThrowawayPostgres
from ledger.settings import Settings
from migrations import migrate

from . import _ponder
from ._chain import BATCH, SessionFactory


def _free_port() -> int:
    return _ponder._free_port()


def _index_cold(url: str, rpc_url: str, deployment: Deployment) -> tuple[float, int, Indexer]:
    """Seconds to migrate an empty database and index to the head; the events stored; the indexer."""
    started = time.perf_counter()
    engine = make_engine(url)
    migrate(engine)
    indexer = Indexer(
        engine,
        HttpRpc(rpc_url),
        chain_id=deployment.chain_id,
        addresses=[c.address for c in deployment.contracts.values()],
        start_block=deployment.start_block,
    )
    result = indexer.sync()
    return time.perf_counter() - started, result.events, indexer


def _live(factory: SessionFactory, rpc: HttpRpc, indexer: Indexer, seconds: float) -> dict[str, Any]:
    """200 actions/s (a batch of 100 every 0.5 s) into 1 s blocks; the indexer polls every 0.1 s;
    the lag (node head - indexed block) is sampled every 50 ms."""
    rpc.call("evm_setAutomine", [False])
    rpc.call("evm_setIntervalMining", [1])
    now = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    raws = list(factory.raw_batches(int(seconds * 2), now))
    stop = threading.Event()
    lags: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        for i, raw in enumerate(raws):
            target = start + i * 0.5
            time.sleep(max(0.0, target - time.monotonic()))
            rpc.call("eth_sendRawTransaction", [raw])

    def index() -> None:
        while not stop.is_set():
            try:
                indexer.sync()
            except BaseException as exc:  # surfaced after the run
                errors.append(exc)
                return
            time.sleep(0.1)

    def sample() -> None:
        probe = HttpRpc(rpc.url)
        while not stop.is_set():
            head = int(probe.call("eth_blockNumber"), 16)
            if indexer.status.indexed is not None:
                lags.append(head - indexer.status.indexed)
            time.sleep(0.05)

    start = time.monotonic()
    threads = [threading.Thread(target=f, daemon=True) for f in (send, index, sample)]
    for t in threads:
        t.start()
    threads[0].join()
    time.sleep(2)  # the last batch's block, and its indexing
    stop.set()
    for t in threads[1:]:
        t.join(timeout=30)
    rpc.call("evm_setIntervalMining", [0])
    rpc.call("evm_setAutomine", [True])
    if errors:
        raise errors[0]
    ordered = sorted(lags)
    return {
        "live_seconds": seconds,
        "live_actions": len(raws) * BATCH,
        "live_samples": len(ordered),
        "live_lag_blocks_p50": ordered[len(ordered) // 2],
        "live_lag_blocks_p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "live_lag_blocks_max": ordered[-1],
    }


def run(
    *,
    sessions: int = 100_000,
    residents: int = 2_000,
    live_seconds: float = 30,
    ponder: bool = True,
    postgres: bool = True,
    progress: Any = print,
) -> dict[str, Any]:
    """Builds the chain, runs the three indexers and the live phase, audits; returns the figures."""
    figures: dict[str, Any] = {"sessions": sessions, "residents": residents}
    with (
        tempfile.TemporaryDirectory(prefix="esg-bench-") as tmp,
        AnvilNode(port=_free_port(), block_time=0, extra_args=("--gas-limit", "100000000")) as node,
    ):
        settings = Settings(env="test", rpc_url=node.url, data_dir=Path(tmp))
        deployment = deploy(settings)
        rpc = HttpRpc(node.url, timeout=120)
        factory = SessionFactory(settings, deployment, rpc, residents)
        factory.raise_caps()
        started = time.perf_counter()
        head = factory.fill(sessions)
        figures["chain_build_seconds"] = round(time.perf_counter() - started, 1)
        figures["blocks"] = head - deployment.start_block + 1
        progress(f"chain ready: {sessions} sessions in blocks {deployment.start_block}-{head}")

        seconds, events, ours = _index_cold(f"sqlite:///{Path(tmp) / 'bench.db'}", node.url, deployment)
        figures["events"] = events
        figures["ours_sqlite_seconds"] = round(seconds, 2)
        figures["ours_sqlite_events_per_s"] = round(events / seconds)
        progress(f"ours, SQLite: {events} events in {seconds:.1f}s")
        if postgres and shutil.which("initdb"):
            with ThrowawayPostgres(prefix="esg-bench-pg-") as pg:
                seconds, pg_events, pg_indexer = _index_cold(pg.url, node.url, deployment)
                pg_indexer.engine.dispose()
            assert pg_events == events
            figures["ours_postgres_seconds"] = round(seconds, 2)
            figures["ours_postgres_events_per_s"] = round(events / seconds)
            progress(f"ours, PostgreSQL: {seconds:.1f}s")
        if ponder:
            seconds = _ponder.run(deployment, node.url, head)
            figures["ponder_seconds"] = round(seconds, 2)
            figures["ponder_events_per_s"] = round(events / seconds)
            figures["ratio_vs_ponder"] = round(
                figures["ours_sqlite_events_per_s"] / figures["ponder_events_per_s"], 2
            )
            progress(f"Ponder 0.16.10: {seconds:.1f}s")
        if live_seconds > 0:
            figures.update(_live(factory, rpc, ours, live_seconds))
            progress(f"live: p99 lag {figures['live_lag_blocks_p99']} blocks")
        ours.sync()
        report = reconcile(ours.engine, rpc, deployment)
        figures["audit_block"] = report.block
        figures["audit_mismatches"] = len(report.mismatches)
        figures["audit_counts"] = {k: v for k, v in report.counts.items() if v}
        ours.engine.dispose()
    figures["targets"] = {
        "ratio_vs_ponder >= 3": figures.get("ratio_vs_ponder", 0) >= 3,
        "ours_sqlite_events_per_s >= 20000": figures["ours_sqlite_events_per_s"] >= 20_000,
        "live_lag_blocks_p99 <= 1": figures.get("live_lag_blocks_p99", 99) <= 1,
        "audit_mismatches == 0": figures["audit_mismatches"] == 0,
    }
    return figures
