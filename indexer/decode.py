"""Decodes the contracts' logs into mirror rows by hand: the layouts are fixed, and this is ~20x faster
than a generic ABI decoder. Golden tests pin it to web3's decoder."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from .errors import DecodeError


def topic(signature: str) -> str:
    return "0x" + keccak(signature.encode()).hex()


PLOGGING_RECORDED = topic(
    "PloggingRecorded(bytes32,address,uint64,uint32,uint32,uint32,uint32,uint64,bytes32,uint256,uint8)"
)
ACTION_FAILED = topic("ActionFailed(bytes32,address,uint64,bytes)")
TRANSFER = topic("Transfer(address,address,uint256)")

_INT64_MAX = 2**63 - 1


def _word(data: bytes, i: int) -> bytes:
    return data[32 * i : 32 * i + 32]


def _uint(data: bytes, i: int, log: dict[str, Any]) -> int:
    value = int.from_bytes(_word(data, i), "big")
    if value > _INT64_MAX:
        raise DecodeError(log, f"word {i} ({value}) does not fit a 64-bit SQL integer")
    return value


@functools.lru_cache(maxsize=65_536)
def _address(word: str) -> str:
    # residents recur across logs; checksumming costs a keccak each time
    return to_checksum_address("0x" + word[-40:])


def _position(log: dict[str, Any], chain_id: int) -> dict[str, Any]:
    return {
        "chain_id": chain_id,
        "block_number": int(log["blockNumber"], 16),
        "block_hash": log["blockHash"],
        "log_index": int(log["logIndex"], 16),
        "tx_hash": log["transactionHash"],
    }


def decode_logs(logs: Iterable[dict[str, Any]], chain_id: int) -> dict[str, list[dict[str, Any]]]:
    """Rows per mirror table, from raw `eth_getLogs` results. Logs of other events are skipped."""
    out: dict[str, list[dict[str, Any]]] = {
        "plogging_session": [],
        "token_transfer": [],
        "action_failure": [],
    }
    for log in logs:
        topics = log["topics"]
        if not topics or log.get("removed"):
            continue
        t0 = topics[0]
        data = bytes.fromhex(log["data"][2:])
        try:
            if t0 == PLOGGING_RECORDED:
                if len(topics) != 3 or len(data) != 9 * 32:
                    raise DecodeError(log, "PloggingRecorded needs 3 topics and 9 data words")
                out["plogging_session"].append(
                    _position(log, chain_id)
                    | {
                        "digest": topics[1],
                        "resident": _address(topics[2]),
                        "nonce": _uint(data, 0, log),
                        "distance_meters": _uint(data, 1, log),
                        "duration_seconds": _uint(data, 2, log),
                        "trash_grams": _uint(data, 3, log),
                        "area_code": _uint(data, 4, log),
                        "started_at": _uint(data, 5, log),
                        "evidence_hash": "0x" + _word(data, 6).hex(),
                        "reward": _uint(data, 7, log),
                        "status": _uint(data, 8, log),
                    }
                )
            elif t0 == TRANSFER:
                if len(topics) != 3 or len(data) != 32:
                    raise DecodeError(log, "Transfer needs 3 topics and 1 data word")
                out["token_transfer"].append(
                    _position(log, chain_id)
                    | {
                        "token": _address(log["address"]),
                        "from_address": _address(topics[1]),
                        "to_address": _address(topics[2]),
                        "value": _uint(data, 0, log),
                    }
                )
            elif t0 == ACTION_FAILED:
                if len(topics) != 3 or len(data) < 3 * 32:
                    raise DecodeError(log, "ActionFailed needs 3 topics and at least 3 data words")
                length = int.from_bytes(_word(data, 2), "big")
                out["action_failure"].append(
                    _position(log, chain_id)
                    | {
                        "contract": _address(log["address"]),
                        "digest": topics[1],
                        "resident": _address(topics[2]),
                        "nonce": _uint(data, 0, log),
                        "reason": "0x" + data[96 : 96 + length].hex(),
                    }
                )
        except (ValueError, IndexError) as exc:
            raise DecodeError(log, str(exc)) from exc
    return out
