"""Regenerates golden/logs.json: raw eth_getLogs from a real anvil run, and the rows each log must become,
decoded independently by web3's ABI decoder. Run it when an event changes:

    .venv/bin/python -m tests.golden.record
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from ledger.deploy import deploy
from ledger.node import AnvilNode
from ledger.rpc import HttpRpc
from ledger.settings import Settings

from ..chain.activity import Activity
from ..support import Resident, free_port

HERE = Path(__file__).resolve().parent


def expected_row(
    w3: Web3, abis: dict[str, Any], log: dict[str, Any], chain_id: int
) -> tuple[str, dict[str, Any]]:
    position = {
        "chain_id": chain_id,
        "block_number": int(log["blockNumber"], 16),
        "block_hash": log["blockHash"],
        "log_index": int(log["logIndex"], 16),
        "tx_hash": log["transactionHash"],
    }
    for abi in abis.values():
        contract = w3.eth.contract(address=to_checksum_address(log["address"]), abi=abi)
        for event in contract.events:
            try:
                decoded = event.process_log(log)
            except Exception:
                continue
            a = decoded["args"]
            if decoded["event"] == "PloggingRecorded":
                return "plogging_session", position | {
                    "digest": "0x" + a["digest"].hex(),
                    "resident": a["resident"],
                    "nonce": a["nonce"],
                    "distance_meters": a["distanceMeters"],
                    "duration_seconds": a["durationSeconds"],
                    "trash_grams": a["trashGrams"],
                    "area_code": a["areaCode"],
                    "started_at": a["startedAt"],
                    "evidence_hash": "0x" + a["evidenceHash"].hex(),
                    "reward": a["reward"],
                    "status": a["status"],
                }
            if decoded["event"] == "Transfer":
                return "token_transfer", position | {
                    "token": to_checksum_address(log["address"]),
                    "from_address": a["from"],
                    "to_address": a["to"],
                    "value": a["value"],
                }
            if decoded["event"] == "ActionFailed":
                return "action_failure", position | {
                    "contract": to_checksum_address(log["address"]),
                    "digest": "0x" + a["digest"].hex(),
                    "resident": a["resident"],
                    "nonce": a["nonce"],
                    "reason": "0x" + a["reason"].hex(),
                }
    return "ignored", {}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(port=free_port(), block_time=0) as node:
        settings = Settings(env="test", rpc_url=node.url, data_dir=Path(tmp))
        deployment = deploy(settings)
        activity = Activity(settings, deployment, Path(tmp) / "relayer.db")
        residents = [Resident() for _ in range(3)]
        activity.record(residents)
        activity.record(residents[:1], distanceMeters=40_000, durationSeconds=600)  # too fast: ActionFailed
        rpc = HttpRpc(node.url)
        logs = rpc.call(
            "eth_getLogs",
            [
                {
                    "address": [c.address for c in deployment.contracts.values()],
                    "fromBlock": hex(deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        w3 = Web3(Web3.HTTPProvider(node.url))
        abis = {n: c.abi for n, c in deployment.contracts.items()}
        expected: dict[str, list[dict[str, Any]]] = {
            "plogging_session": [],
            "token_transfer": [],
            "action_failure": [],
        }
        for log in logs:
            table, row = expected_row(w3, abis, log, deployment.chain_id)
            if table != "ignored":
                expected[table].append(row)
        (HERE / "logs.json").write_text(
            json.dumps({"chainId": deployment.chain_id, "eth_getLogs": logs, "rows": expected}, indent=1)
            + "\n"
        )


if __name__ == "__main__":
    main()
