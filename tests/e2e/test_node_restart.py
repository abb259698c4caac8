"""The node goes away and comes back: stopped and restarted with its state, and restarted from an
older state dump, so that blocks the relayer had settled are lost. Accepted actions are never lost
nor doubled: lost ones are detected and sent again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment, deploy
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..support import Resident, Server, free_port, wait_until
from .test_plogging_e2e import submit_signed, wait_final
from .test_restart import _chain_records

pytestmark = pytest.mark.slow


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilNode]:
    n = AnvilNode(port=free_port(), block_time=0, state_path=tmp_path / "anvil-state.json", state_interval=1)
    n.start()
    yield n
    n.stop()


def _confirmed(client: httpx.Client, ids: list[str]) -> bool:
    return all(client.get(f"/v1/actions/{i}").json()["status"] == "confirmed" for i in ids)


def test_node_restarted_from_an_older_state_loses_no_action(node: AnvilNode, tmp_path: Path) -> None:
    settings = Settings(env="test", rpc_url=node.url, data_dir=tmp_path)  # type: ignore[arg-type]
    deployment: Deployment = deploy(settings)
    rpc = HttpRpc(node.url)
    server = Server(rpc_url=node.url, data_dir=tmp_path).start()
    try:
        with server.client() as client:
            first = [submit_signed(client, Resident())[2] for _ in range(3)]
            wait_until(lambda: _confirmed(client, first), 30, "the first actions to confirm")
            older = rpc.call("anvil_dumpState")  # the chain as it stands now
            older_head = int(rpc.call("eth_blockNumber"), 16)

            second = [submit_signed(client, Resident())[2] for _ in range(3)]
            wait_until(lambda: _confirmed(client, second), 30, "the second actions to confirm")
            lost_blocks = {client.get(f"/v1/actions/{i}").json()["blockNumber"] for i in second}
            assert min(lost_blocks) > older_head

            # Plain restart: the node keeps its state; actions accepted while it is down wait.
            node.stop()
            residents = [Resident() for _ in range(2)]
            prepared = []
            node.start()
            for r in residents:
                prepared.append(submit_signed(client, r))
            node.stop()
            node.start()
            third = [p[2] for p in prepared]
            wait_until(lambda: _confirmed(client, third), 60, "actions sent around a restart to confirm")

            # Restart from the older dump: the blocks holding `second` and `third` are gone.
            node.kill()
            node.state_path = None
            node.start()
            assert rpc.call("anvil_loadState", [older])
            assert int(rpc.call("eth_blockNumber"), 16) == older_head
            records = _chain_records(rpc, deployment)
            assert [records[i] for i in second + third] == [0] * 5

            wait_until(
                lambda: all(_chain_records(rpc, deployment)[i] == 1 for i in second + third),
                90,
                "the lost actions to be recorded again",
            )
            statuses = [wait_final(client, i, timeout=30) for i in first + second + third]
    finally:
        server.stop()
    assert [s["status"] for s in statuses] == ["confirmed"] * 8
    records = _chain_records(rpc, deployment)
    assert [records[i] for i in first + second + third] == [1] * 8
