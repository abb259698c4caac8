"""What a partner checks on-chain, trusting neither the city's database nor its API.

`verify_action` finds an action's record by its digest in the registry's logs; `verify_balance` reads
a resident's balance from the token contract. Both can be compared with what the API claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from .chain.decode import PLOGGING_RECORDED, decode_logs
from .chain.rpc import Transport
from .deploy import Deployment

_BALANCE_OF = keccak(b"balanceOf(address)")[:4]


@dataclass
class ActionRecord:
    digest: str
    found: bool
    block_number: int | None = None
    log_index: int | None = None
    tx_hash: str | None = None
    fields: dict[str, Any] | None = None
    confirmations: int = 0


def verify_action(rpc: Transport, deployment: Deployment, digest: str) -> ActionRecord:
    """The chain's record of the action with this EIP-712 digest, if any."""
    logs = rpc.call(
        "eth_getLogs",
        [
            {
                "address": deployment.address("PloggingRegistry"),
                "topics": [PLOGGING_RECORDED, digest.lower()],
                "fromBlock": hex(deployment.start_block),
                "toBlock": "latest",
            }
        ],
    )
    if not logs:
        return ActionRecord(digest=digest, found=False)
    row = decode_logs(logs[:1], deployment.chain_id)["plogging_session"][0]
    head = int(rpc.call("eth_blockNumber"), 16)
    return ActionRecord(
        digest=digest,
        found=True,
        block_number=row["block_number"],
        log_index=row["log_index"],
        tx_hash=row["tx_hash"],
        fields={k: v for k, v in row.items() if k not in ("chain_id", "block_hash", "log_index", "tx_hash")},
        confirmations=head - row["block_number"] + 1,
    )


def verify_balance(rpc: Transport, deployment: Deployment, address: str, block: str = "latest") -> int:
    """The resident's balance as the token contract itself reports it."""
    who = to_checksum_address(address)
    data = _BALANCE_OF + bytes(12) + bytes.fromhex(who[2:])
    reply = rpc.call(
        "eth_call", [{"to": deployment.address("ParticipationToken"), "data": "0x" + data.hex()}, block]
    )
    return int(decode(["uint256"], bytes.fromhex(reply[2:]))[0])
