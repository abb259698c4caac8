"""Pre-flight: simulate a batch before signing it, so actions that would fail cost no gas.

With `eth_simulateV1` (anvil, geth, reth, Besu ≥ 24.12) one call returns the gas used and the
`ActionFailed` logs with each failing action's reason. A node without it gets `eth_call` (the
batch's failed-entry mask), the kind's `check(item)` view for each failing entry's reason, and
`eth_estimateGas`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

from ..chain.decode import ACTION_FAILED
from ..chain.rpc import Transport
from ..errors import RpcError
from ..models import Action
from .kinds import BatchKind

log = logging.getLogger(__name__)

METHOD_NOT_FOUND = -32601
_START_OUT_OF_RANGE = keccak(b"PloggingRegistryStartOutOfRange(uint64,uint64,uint64)")[:4]


@dataclass
class Verdict:
    gas_used: int | None = None  # of the batch as simulated; None when the node only estimated
    gas_estimate: int | None = None
    failed: dict[str, bytes | None] = field(default_factory=dict)  # digest → ABI-encoded reason


def _reason_from_log(entry: dict[str, Any]) -> tuple[str, bytes]:
    data = bytes.fromhex(entry["data"][2:])
    length = int.from_bytes(data[64:96], "big")
    return entry["topics"][1], data[96 : 96 + length]


class Preflight:
    def __init__(self, rpc: Transport) -> None:
        self.rpc = rpc
        self.simulate_supported = True

    def run(self, *, kind: BatchKind, sender: str, to: str, actions: list[Action]) -> Verdict:
        data = "0x" + kind.encode_batch(actions).hex()
        if self.simulate_supported:
            try:
                return self._simulate(sender, to, data)
            except RpcError as exc:
                if exc.code != METHOD_NOT_FOUND and "not supported" not in exc.rpc_message.lower():
                    raise
                log.info("the node has no eth_simulateV1; pre-flight uses eth_call and eth_estimateGas")
                self.simulate_supported = False
        return self._call_and_estimate(kind, sender, to, data, actions)

    def _simulate(self, sender: str, to: str, data: str) -> Verdict:
        # Simulate the block the batch will land in, not the latest one: its timestamp is now, so
        # a session that ended a moment ago is not "in the future" (the latest block may be old).
        block = {
            "blockOverrides": {"time": hex(int(time.time()))},
            "calls": [{"from": sender, "to": to, "data": data}],
        }
        result = self.rpc.call("eth_simulateV1", [{"blockStateCalls": [block]}, "latest"])
        call = result[0]["calls"][0]
        if int(call["status"], 16) != 1:
            err = call.get("error") or {}
            raise RpcError(
                "eth_simulateV1",
                int(err.get("code", 3)),
                str(err.get("message", "execution reverted")),
                call.get("returnData"),
            )
        verdict = Verdict(gas_used=int(call["gasUsed"], 16))
        for entry in call.get("logs", []):
            if (
                entry["topics"]
                and entry["topics"][0] == ACTION_FAILED
                and entry["address"].lower() == to.lower()
            ):
                digest, reason = _reason_from_log(entry)
                verdict.failed[digest] = reason
        return verdict

    def _call_and_estimate(
        self, kind: BatchKind, sender: str, to: str, data: str, actions: list[Action]
    ) -> Verdict:
        tx = {"from": sender, "to": to, "data": data}
        mask = kind.decode_failed_mask(self.rpc.call("eth_call", [tx, "latest"]))
        verdict = Verdict()
        failing = [a for i, a in enumerate(actions) if mask >> i & 1]
        checks = [(a, kind.encode_check(a)) for a in failing]
        replies = self.rpc.batch(
            [("eth_call", [{"to": to, "data": "0x" + c.hex()}, "latest"]) for _, c in checks if c is not None]
        )
        reply_iter = iter(replies)
        for action, check in checks:
            reply = next(reply_iter) if check is not None else None
            reason = kind.decode_reason(reply) if isinstance(reply, str) else None
            if reason is not None and reason[:4] == _START_OUT_OF_RANGE:
                reason = None  # judged against the latest block's (older) time: let the next block judge
            # An empty reason: the entry fails only next to others in this batch; it will be retried.
            verdict.failed[action.id] = reason or None
        if len(failing) < len(actions):
            verdict.gas_estimate = int(self.rpc.call("eth_estimateGas", [tx]), 16)
        return verdict
