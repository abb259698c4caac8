"""Regenerates golden/logs.json: raw eth_getLogs from a real anvil run that makes every contract event
(tests/chain/scenario.py), and the rows each log must become, decoded independently by web3's ABI
decoder. Run it when an event changes:

    .venv/bin/python -m tests.golden.record
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from ledger.chain.admin import ADMIN_ACTIONS
from ledger.chain.decode import TABLES
from ledger.chain.events import EVENTS_BY_TOPIC
from ledger.chain.rpc import HttpRpc
from ledger.deploy import deploy
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..chain.scenario import Scenario
from ..support import free_port

HERE = Path(__file__).resolve().parent
_POSITION = ("chain_id", "block_number", "block_hash", "log_index", "tx_hash")


def _flat(value: Any) -> list[Any]:
    """web3's decoded arguments, flattened as events.py flattens struct parameters."""
    if isinstance(value, tuple | list):
        return [v for item in value for v in _flat(item)]
    if hasattr(value, "values") and not isinstance(value, str | bytes):  # a struct as an AttributeDict
        return [v for item in value.values() for v in _flat(item)]
    if isinstance(value, bytes):
        return ["0x" + value.hex()]
    return [value]


def expected_rows(
    w3: Web3, abis: dict[str, Any], log: dict[str, Any], chain_id: int
) -> dict[str, dict[str, Any]]:
    """The rows web3's decoder says this log must become: {table: row}, with the admin log's if any."""
    spec = EVENTS_BY_TOPIC.get(log["topics"][0])
    if spec is None:
        return {}
    for abi in abis.values():
        contract = w3.eth.contract(address=to_checksum_address(log["address"]), abi=abi)
        try:
            decoded = getattr(contract.events, spec.name)().process_log(log)
        except Exception:
            continue
        values = [v for arg in decoded["args"].values() for v in _flat(arg)]
        # web3 yields arguments in ABI order; events.py lists fields in the same order
        row: dict[str, Any] = {
            "chain_id": chain_id,
            "block_number": int(log["blockNumber"], 16),
            "block_hash": log["blockHash"],
            "log_index": int(log["logIndex"], 16),
            "tx_hash": log["transactionHash"],
        }
        if spec.contract_column:
            row[spec.contract_column] = to_checksum_address(log["address"])
        row.update(zip([f.column for f in spec.fields], values, strict=True))
        row.update(dict(spec.constants))
        out = {spec.table: row}
        if spec.name in ADMIN_ACTIONS:
            actor, subject = ADMIN_ACTIONS[spec.name]
            details = {k: v for k, v in row.items() if k not in _POSITION}
            out["admin_action"] = {k: row[k] for k in _POSITION} | {
                "contract": to_checksum_address(log["address"]),
                "action": spec.name,
                "actor": row[actor],
                "subject": None if subject is None else str(row[subject]),
                "details": json.dumps(details, sort_keys=True, separators=(",", ":")),
            }
        return out
    raise AssertionError(f"web3 cannot decode {spec.name} at {log['transactionHash']}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(port=free_port(), block_time=0) as node:
        settings = Settings(env="test", rpc_url=node.url, data_dir=Path(tmp))
        deployment = deploy(settings)
        Scenario(settings, deployment).run()
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
        expected: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        for log in logs:
            for table, row in expected_rows(w3, abis, log, deployment.chain_id).items():
                expected[table].append(row)
        (HERE / "logs.json").write_text(
            json.dumps({"chainId": deployment.chain_id, "eth_getLogs": logs, "rows": expected}, indent=1)
            + "\n"
        )


if __name__ == "__main__":
    main()
