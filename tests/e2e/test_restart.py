"""Stop and start the server mid-stream (gracefully, then with kill -9): every accepted action still
ends confirmed exactly once, as the chain itself shows."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server, plogging_payload, wait_until

ACTIONS = 90
RESIDENTS = 15


def _chain_records(rpc: HttpRpc, deployment: Deployment) -> Counter[str]:
    from ledger.chain.decode import PLOGGING_RECORDED

    logs = rpc.call(
        "eth_getLogs",
        [
            {
                "address": deployment.address("PloggingRegistry"),
                "topics": [PLOGGING_RECORDED],
                "fromBlock": hex(deployment.start_block),
                "toBlock": "latest",
            }
        ],
    )
    return Counter(entry["topics"][1] for entry in logs)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "kill-9"])
def test_restart_mid_stream_loses_and_doubles_nothing(
    anvil: AnvilNode, tmp_path: Path, deployment: Deployment, data_dir: Path, stop_signal: int
) -> None:
    # Each run gets its own database; the deployment manifest is shared.
    run_dir = tmp_path / "run"
    (run_dir / "deployments").mkdir(parents=True)
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run_dir / "deployments" / manifest.name).write_text(manifest.read_text())
    server = Server(rpc_url=anvil.url, data_dir=run_dir, ESG_BATCH_MAX_AGE="0.2").start()
    residents = [Resident() for _ in range(RESIDENTS)]
    signed: list[dict[str, Any]] = []
    with server.client() as client:
        for i in range(ACTIONS):
            resident = residents[i % RESIDENTS]
            r = client.post(
                "/v1/actions/prepare",
                json={
                    "kind": "plogging",
                    "resident": resident.address,
                    "payload": plogging_payload(trashGrams=100 + i),
                },
            )
            typed = r.json()["typedData"]
            signed.append({"typedData": typed, "signature": resident.sign(typed)})

    accepted: dict[int, str] = {}
    restarted = threading.Event()

    def submit_all() -> None:
        for i, body in enumerate(signed):
            while True:  # a client retries the same signed action until the server answers
                try:
                    r = httpx.post(server.url + "/v1/actions", json=body, timeout=10)
                    if r.status_code == 202:
                        accepted[i] = r.json()["id"]
                        break
                except httpx.HTTPError:
                    pass
                restarted.wait(0.05)

    submitter = threading.Thread(target=submit_all)
    submitter.start()
    wait_until(lambda: len(accepted) >= ACTIONS // 3, 60, "a third of the actions to be accepted")
    server.stop(stop_signal)
    server.start()
    restarted.set()
    submitter.join(timeout=120)
    assert len(accepted) == ACTIONS

    with server.client() as client:

        def all_settled() -> bool:
            return all(
                client.get(f"/v1/actions/{a}").json()["status"] in ("confirmed", "failed")
                for a in set(accepted.values())
            )

        wait_until(all_settled, 90, "every accepted action to settle", interval=0.5)
        statuses = {a: client.get(f"/v1/actions/{a}").json() for a in set(accepted.values())}
    server.stop()

    assert len(set(accepted.values())) == ACTIONS
    assert [s for s in statuses.values() if s["status"] != "confirmed"] == []
    records = _chain_records(HttpRpc(anvil.url), deployment)
    assert all(records[a] == 1 for a in accepted.values()), (
        "an accepted action is missing or doubled on-chain"
    )
