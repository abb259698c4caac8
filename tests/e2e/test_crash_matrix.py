"""kill -9 the server at each step of an action's way, restart it, and check against the chain that
every accepted action ends confirmed exactly once.

A fault-injecting proxy between the server and anvil stops the relayer at a precise step (it holds
the broadcast before or after the node saw it) so the kill lands exactly there.
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..relayer.proxy import Fault, Proxy
from ..support import Resident, Server, wait_until
from .test_plogging_e2e import submit_signed, wait_final
from .test_restart import _chain_records

pytestmark = pytest.mark.slow
ACTIONS = 6


@pytest.fixture
def run_dir(tmp_path: Path, data_dir: Path, deployment: Deployment) -> Path:
    run = tmp_path / "run"
    (run / "deployments").mkdir(parents=True)
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run / "deployments" / manifest.name).write_text(manifest.read_text())
    return run


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[Proxy]:
    p = Proxy(anvil.url)
    yield p
    p.close()


def _tx_statuses(run_dir: Path) -> list[str]:
    with sqlite3.connect(f"file:{run_dir / 'ledger.db'}?mode=ro", uri=True) as db:
        return [s for (s,) in db.execute("SELECT status FROM relay_tx ORDER BY id")]


def _action_statuses(run_dir: Path) -> set[str]:
    with sqlite3.connect(f"file:{run_dir / 'ledger.db'}?mode=ro", uri=True) as db:
        return {s for (s,) in db.execute("SELECT status FROM action")}


@pytest.mark.parametrize("step", ["after-accept", "after-signing", "after-broadcast", "before-receipt"])
def test_kill_9_at_each_step_loses_and_doubles_nothing(
    step: str, anvil: AnvilNode, deployment: Deployment, run_dir: Path, proxy: Proxy, rpc: HttpRpc
) -> None:
    slow = {"ESG_BATCH_MAX_AGE": "3600", "ESG_BATCH_MAX_SIZE": "100"} if step == "after-accept" else {}
    if step == "after-signing":
        proxy.add("eth_sendRawTransaction", Fault("hold"))
    elif step == "after-broadcast":
        proxy.add("eth_sendRawTransaction", Fault("forward-hold"))
    elif step == "before-receipt":
        rpc.call("evm_setAutomine", [False])
    server = Server(rpc_url=proxy.url, data_dir=run_dir, **slow).start()
    try:
        with server.client() as client:
            ids = [submit_signed(client, Resident())[2] for _ in range(ACTIONS)]
        if step in ("after-signing", "after-broadcast"):
            wait_until(lambda: proxy.held, 30, "the broadcast to reach the proxy")
            assert _tx_statuses(run_dir) == ["signed"]  # stored before it was sent
        elif step == "before-receipt":
            wait_until(
                lambda: (
                    set(_tx_statuses(run_dir)) == {"broadcast"} and _action_statuses(run_dir) == {"submitted"}
                ),
                30,
                "every action to be broadcast",
            )
    finally:
        server.stop(signal.SIGKILL)  # also when a wait above failed: never leave a server behind
        proxy.release()
        rpc.call("evm_setAutomine", [True])  # mines what is pending: the receipt appears while it is down

    server = Server(rpc_url=proxy.url, data_dir=run_dir).start()
    try:
        with server.client() as client:
            statuses = [wait_final(client, i, timeout=60) for i in ids]
    finally:
        server.stop()
    assert [s["status"] for s in statuses] == ["confirmed"] * ACTIONS
    records = _chain_records(rpc, deployment)
    assert [records[i] for i in ids] == [1] * ACTIONS
