"""Pre-flight: simulate a batch before signing it, so actions that would fail cost no gas.

With `eth_simulateV1` (anvil, geth, reth, Besu ≥ 24.12) one call returns the gas used and the
events: each entry's recorded event or its `ActionFailed` reason. It runs with `validation` on, the
next block's base fee and the fee fields the transaction will be sent with, so `tx.gasprice`, which
an ERC-1271 wallet can read, is the one the chain will show it. A node without it gets `eth_call`
(the batch's failed-entry mask), the kind's `check(item)` view for each failing entry's reason, and
`eth_estimateGas`, with the same fee fields.

A batch that does not go through as a whole comes back `broken`: it reverted (with the revert
data), the node refused the request, or the simulated events do not name exactly the batch's
actions (an entry is encoded otherwise than its resident signed it, so the contract hashes it to
another digest). `each` simulates entries one by one, in one JSON-RPC batch beside a control call,
so the caller can tell an entry that breaks a batch from a node that refuses everything.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

from ..chain.decode import ACTION_FAILED
from ..chain.rpc import Transport
from ..errors import RpcError
from ..models import Action
from .fees import Fees
from .kinds import BatchKind

log = logging.getLogger(__name__)

METHOD_NOT_FOUND = -32601
SIMULATION_GAS = 16_000_000  # what the simulated call may use: the transaction gas cap (batching.TX_GAS_CAP)
_AMPLE_BALANCE = 2**96  # wei: any simulation's gas at any fee the cap allows
_START_OUT_OF_RANGE = keccak(b"PloggingRegistryStartOutOfRange(uint64,uint64,uint64)")[:4]


@dataclass(frozen=True)
class Broken:
    """Why a simulated call did not go through as a whole."""

    why: str  # the node's words
    data: bytes | None = None  # the revert data, when the call ran and reverted
    refused: bool = False  # the node refused the request: nothing ran
    foreign: tuple[str, ...] = ()  # digests the simulated events name that are none of the batch's


@dataclass
class Verdict:
    gas_used: int | None = None  # of the batch as simulated; None when the node only estimated
    gas_estimate: int | None = None
    failed: dict[str, bytes | None] = field(default_factory=dict)  # digest → ABI-encoded reason
    broken: Broken | None = None


@dataclass(frozen=True)
class Conditions:
    """What the transaction will be sent with, so the simulation sees what the chain will."""

    sender: str
    to: str
    fees: Fees
    base_fee: int  # the next block's
    time: int  # the next block's timestamp, at the earliest

    def call(self, data: bytes, *, gas: bool = False) -> dict[str, Any]:
        """The transaction as a call. Without `gas` the node picks the most the sender's balance
        pays for at these fees (eth_call, eth_estimateGas); in a simulation, balance is overridden."""
        call = {
            "from": self.sender,
            "to": self.to,
            "data": "0x" + data.hex(),
            "maxFeePerGas": hex(self.fees.max_fee),
            "maxPriorityFeePerGas": hex(self.fees.tip),
        }
        if gas:
            call["gas"] = hex(SIMULATION_GAS)
        return call

    def simulation(self, data: bytes) -> list[Any]:
        # The block the batch will land in, not the latest one: its timestamp is now, so a session
        # that ended a moment ago is not "in the future" (the latest block may be old), and its base
        # fee is the next block's. With validation the fee fields count: tx.gasprice is
        # min(maxFeePerGas, baseFee + tip), as on chain (without it, nodes price the call at the tip).
        # Validation also wants the sender to afford the simulation's gas at that price; the real
        # limit is far lower, and the node checks the real balance when the transaction is sent.
        block = {
            "blockOverrides": {"time": hex(self.time), "baseFeePerGas": hex(self.base_fee)},
            "stateOverrides": {self.sender: {"balance": hex(_AMPLE_BALANCE)}},
            "calls": [self.call(data, gas=True)],
        }
        return [{"blockStateCalls": [block], "validation": True}, "latest"]


def _reason_from_log(entry: dict[str, Any]) -> tuple[str, bytes]:
    data = bytes.fromhex(entry["data"][2:])
    length = int.from_bytes(data[64:96], "big")
    return entry["topics"][1].lower(), data[96 : 96 + length]


def _hex_bytes(value: Any) -> bytes | None:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def _ran(exc: RpcError) -> bool:
    """Whether an eth_call/eth_estimateGas error means the call ran and failed (vs. was refused)."""
    message = exc.rpc_message.lower()
    return exc.code == 3 or any(w in message for w in ("revert", "out of gas", "execution", "invalid opcode"))


def failure(exc: RpcError) -> Broken:
    """An `eth_call`-style error as a Broken verdict: reverted (with its data) or refused."""
    if _ran(exc):
        return Broken(why=exc.rpc_message, data=_hex_bytes(exc.data) or b"")
    return Broken(why=exc.rpc_message, refused=True)


class Preflight:
    def __init__(self, rpc: Transport) -> None:
        self.rpc = rpc
        self.simulate_supported = True

    def run(self, *, kind: BatchKind, at: Conditions, actions: list[Action], data: bytes) -> Verdict:
        """The batch `actions`, encoded as `data`, simulated as it will be sent."""
        if self.simulate_supported:
            try:
                result = self.rpc.call("eth_simulateV1", at.simulation(data))
            except RpcError as exc:
                if exc.code != METHOD_NOT_FOUND and "not supported" not in exc.rpc_message.lower():
                    return Verdict(broken=Broken(why=exc.rpc_message, refused=True))
                log.info("the node has no eth_simulateV1; pre-flight uses eth_call and eth_estimateGas")
                self.simulate_supported = False
            else:
                return self._simulated(kind, at, result[0]["calls"][0], [a.id for a in actions])
        return self._call_and_estimate(kind, at, data, actions)

    def each(
        self,
        *,
        kind: BatchKind,
        at: Conditions,
        entries: Sequence[tuple[Action, bytes]],
        extra: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> tuple[bool, list[Verdict], list[Any]]:
        """Each entry (an action and its one-entry batch) simulated alone, all in one JSON-RPC
        batch with a control call and the `extra` calls. Returns whether the node ran the control
        (a call to the target with no data: it reverts, but it runs), each entry's verdict, and
        the extra calls' replies (results or RpcErrors)."""
        if self.simulate_supported:
            control = ("eth_simulateV1", at.simulation(b""))
            calls = [("eth_simulateV1", at.simulation(d)) for _, d in entries]
        else:
            control = ("eth_call", [at.call(b""), "latest"])
            calls = [("eth_call", [at.call(d), "latest"]) for _, d in entries]
        replies = self.rpc.batch([control, *calls, *extra])
        ran = not isinstance(replies[0], RpcError) or _ran(replies[0])
        verdicts = []
        for (action, _), reply in zip(entries, replies[1 : 1 + len(calls)], strict=True):
            if isinstance(reply, RpcError):
                verdicts.append(
                    Verdict(broken=Broken(why=reply.rpc_message, refused=True))
                    if self.simulate_supported
                    else Verdict(broken=failure(reply))
                )
            elif self.simulate_supported:
                verdicts.append(self._simulated(kind, at, reply[0]["calls"][0], [action.id]))
            else:
                verdicts.append(self._masked(kind, at, [action], reply))
        return ran, verdicts, replies[1 + len(calls) :]

    def _simulated(self, kind: BatchKind, at: Conditions, call: dict[str, Any], ids: list[str]) -> Verdict:
        if int(call["status"], 16) != 1:
            err = call.get("error") or {}
            return Verdict(
                broken=Broken(
                    why=str(err.get("message", "execution reverted")),
                    data=_hex_bytes(call.get("returnData")) or b"",
                )
            )
        verdict = Verdict(gas_used=int(call["gasUsed"], 16))
        named: list[str] = []
        for entry in call.get("logs", []):
            topics = entry["topics"]
            if not topics or entry["address"].lower() != at.to.lower():
                continue
            if topics[0] == ACTION_FAILED:
                digest, reason = _reason_from_log(entry)
                verdict.failed[digest] = reason
                named.append(digest)
            elif topics[0] == kind.recorded_topic:
                named.append(topics[kind.digest_topic].lower())
        # The contract says recorded or failed for every entry, by the digest it computed. Anything
        # else means an entry's calldata is not the action its resident signed.
        if Counter(named) != Counter(i.lower() for i in ids):
            expected = {i.lower() for i in ids}
            foreign = tuple(d for d in named if d not in expected)
            verdict.broken = Broken(
                why=f"the simulated events name {len(foreign)} digests that are not the batch's "
                f"and miss {len(expected - set(named))} of its {len(ids)} actions",
                foreign=foreign,
            )
        return verdict

    def _call_and_estimate(
        self, kind: BatchKind, at: Conditions, data: bytes, actions: list[Action]
    ) -> Verdict:
        try:
            result = self.rpc.call("eth_call", [at.call(data), "latest"])
        except RpcError as exc:
            return Verdict(broken=failure(exc))
        verdict = self._masked(kind, at, actions, result)
        if verdict.broken is None and len(verdict.failed) < len(actions):
            try:
                verdict.gas_estimate = int(self.rpc.call("eth_estimateGas", [at.call(data)]), 16)
            except RpcError as exc:
                verdict.broken = failure(exc)
        return verdict

    def _masked(self, kind: BatchKind, at: Conditions, actions: list[Action], result: Any) -> Verdict:
        """The verdict from a batch's failed-entry mask, with each failing entry's reason from `check`."""
        try:
            mask = kind.decode_failed_mask(result)
        except Exception as exc:  # not the batch function's answer (no contract there, a proxy's fallback)
            return Verdict(broken=Broken(why=f"the batch call answered {str(result)[:80]!r}: {exc}"))
        verdict = Verdict()
        failing = [a for i, a in enumerate(actions) if mask >> i & 1]
        checks: list[tuple[Action, bytes | None]] = []
        for a in failing:
            try:
                checks.append((a, kind.encode_check(a)))
            except Exception:  # encodable in a batch but not alone: no reason to give
                checks.append((a, None))
        replies = iter(
            self.rpc.batch(
                [
                    ("eth_call", [{"to": at.to, "data": "0x" + c.hex()}, "latest"])
                    for _, c in checks
                    if c is not None
                ]
            )
        )
        for action, check in checks:
            reply = next(replies) if check is not None else None
            reason = None
            if isinstance(reply, str):
                try:
                    reason = kind.decode_reason(reply)
                except Exception:
                    reason = None
            if reason is not None and reason[:4] == _START_OUT_OF_RANGE:
                reason = None  # judged against the latest block's (older) time: let the next block judge
            # An empty reason: the entry fails only next to others in this batch; it will be retried.
            verdict.failed[action.id] = reason or None
        return verdict
