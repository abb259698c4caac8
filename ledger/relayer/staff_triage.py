"""Pre-flight for staff requests: what one `executeBatch` would do, before it is signed. RPC only.

    simulate executeBatch(requests, refundReceiver = the relayer key)   (eth_simulateV1)
        every request has ExecutedForwardRequest(signer, nonce, true) ──▶ send the batch
        the whole call reverts, or the node refuses ──▶ everything waits (not the requests' doing:
            an invalid request is skipped and a failing call reports false, neither reverts)
        a member's first request that is not `true`:
            false (its call reverts) ──▶ its reason: the inner call simulated from the forwarder
                with the signer appended, after the batch's requests before it ──▶ decoded
                ├── a cause outside the member (a pause; another account's missing role) ──▶ the
                │   member's requests wait
                └── otherwise ──▶ it fails with that reason (the member's later ones with it)
            no event (skipped) ──▶ expired or a signature not the member's ──▶ it fails; otherwise
                its nonce is not the member's next (used meanwhile): it waits for the next flush,
                which resolves it by (signer, nonce)
        the member's requests leave the batch and the rest is simulated again

A member's later requests are simulated with the earlier ones, so they depend on them: once one
fails or waits, the member's later requests leave this batch too (`relayer/staff.py` fails them:
their nonces can no longer run).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..chain.revert import ErrorDecoder
from ..errors import ChainError, InvalidSignatureError, RpcError
from ..kinds import staff as forward
from ..models import Action
from ..types import checksum
from .causes import Causes
from .kinds import ForwardBatchKind
from .preflight import Conditions

MAX_ROUNDS = 6  # each round removes at least one member's requests


@dataclass
class StaffPlan:
    batch: list[Action] = field(default_factory=list)  # to send now, in this order
    data: bytes | None = None  # its calldata
    gas_used: int | None = None  # as simulated
    fail: dict[str, str] = field(default_factory=dict)  # action id → why it fails (its nonce stays unused)
    wait: dict[str, str] = field(default_factory=dict)  # action id → why it waits (it stays queued)
    wait_all: str | None = None  # a cause that holds back every request of the batch


def _executed(call: dict[str, Any], forwarder: str) -> dict[tuple[str, int], tuple[bool, int]]:
    """(signer, nonce) → (success, log index) of the forwarder's ExecutedForwardRequest logs."""
    out: dict[tuple[str, int], tuple[bool, int]] = {}
    for entry in call.get("logs", []):
        if str(entry.get("address", "")).lower() != forwarder.lower():
            continue
        executed = forward.decode_executed(entry)
        if executed is not None:
            out[(executed.signer, executed.nonce)] = (executed.success, int(entry.get("logIndex", "0x0"), 16))
    return out


def _key(message: dict[str, Any]) -> tuple[str, int]:
    return checksum(message["from"]), int(message["nonce"])


class StaffTriage:
    def __init__(
        self, *, rpc: Any, decoder: ErrorDecoder, causes: Causes, chain_id: int, forwarder: str
    ) -> None:
        self.rpc = rpc
        self.decoder = decoder
        self.causes = causes
        self.chain_id = chain_id
        self.forwarder = checksum(forwarder)

    def plan(self, kind: ForwardBatchKind, at: Conditions, batch: list[Action]) -> StaffPlan:
        plan = StaffPlan()
        try:
            self._plan(plan, kind, at, batch)
        except ChainError as exc:  # the node cannot be reached, or answers nonsense: everything waits
            plan.batch, plan.data, plan.gas_used = [], None, None
            plan.wait_all = f"the node: {exc}"
        return plan

    def _plan(self, plan: StaffPlan, kind: ForwardBatchKind, at: Conditions, batch: list[Action]) -> None:
        todo = self._encodable(plan, kind, batch)
        for _ in range(MAX_ROUNDS):
            if not todo:
                return
            data = kind.encode_batch(todo)
            try:
                result = self.rpc.call("eth_simulateV1", at.simulation(data))
            except RpcError as exc:
                plan.wait_all = f"the node refuses to simulate executeBatch: {exc.rpc_message}"
                return
            call = result[0]["calls"][0]
            if int(call["status"], 16) != 1:
                raw = str(call.get("returnData") or "0x")
                why = self.decoder.text(bytes.fromhex(raw[2:])) if len(raw) > 2 else "no revert data"
                plan.wait_all = f"executeBatch reverts in simulation: {why}"
                return
            executed = _executed(call, self.forwarder)
            messages = [json.loads(a.message) for a in todo]
            first_bad: dict[str, int] = {}  # member → index of their first request that is not `true`
            for i, m in enumerate(messages):
                member = checksum(m["from"])
                if member not in first_bad and executed.get(_key(m), (False, 0))[0] is not True:
                    first_bad[member] = i
            if not first_bad:
                plan.batch, plan.data, plan.gas_used = todo, data, int(call["gasUsed"], 16)
                return
            self._judge(plan, at, todo, messages, executed, list(first_bad.values()))
            todo = [a for a in todo if checksum(a.resident) not in first_bad]
        plan.wait_all = f"no batch that simulates cleanly after {MAX_ROUNDS} rounds"

    def _encodable(self, plan: StaffPlan, kind: ForwardBatchKind, batch: list[Action]) -> list[Action]:
        try:
            kind.encode_batch(batch)
            return batch
        except Exception:
            pass
        ok, broken = [], set()
        for a in batch:
            if a.resident in broken:
                continue
            try:
                kind.encode_batch([a])
                ok.append(a)
            except Exception as exc:  # a stored message that no longer encodes (written by hand)
                plan.fail[a.id] = f"cannot be encoded for the forwarder: {exc.__class__.__name__}: {exc}"[
                    :400
                ]
                broken.add(a.resident)
        return [a for a in ok if a.resident not in broken]

    def _judge(
        self,
        plan: StaffPlan,
        at: Conditions,
        todo: list[Action],
        messages: list[dict[str, Any]],
        executed: dict[tuple[str, int], tuple[bool, int]],
        bad: list[int],
    ) -> None:
        """Why each member's first request that did not run well fails, waits, or is stale."""
        reverted = [i for i in bad if _key(messages[i]) in executed]
        reasons = self.inner_reasons(
            [(messages[:i], messages[i]) for i in reverted],
            ok=lambda m: executed.get(_key(m), (False, 0))[0],
            time=at.time,
            block="latest",
        )
        for i, (data, why) in zip(reverted, reasons, strict=True):
            action, member = todo[i], checksum(messages[i]["from"])
            if (outside := self.outside(data, member)) is not None:
                plan.wait[action.id] = outside
            else:
                plan.fail[action.id] = f"its call reverts: {why}"
        for i in bad:
            if i in reverted:
                continue
            action, m = todo[i], messages[i]
            if m["deadline"] < at.time:
                plan.fail[action.id] = f"the forwarder would skip it: it expires at {m['deadline']}"
            elif not self._signed_by_member(m, action.signature):
                plan.fail[action.id] = "the forwarder would skip it: its signature is not its staff member's"
            else:
                plan.wait[action.id] = f"nonce {m['nonce']} is not {m['from']}'s next at the forwarder"

    def _signed_by_member(self, m: dict[str, Any], signature: str) -> bool:
        try:
            return forward.signer(self.chain_id, self.forwarder, m, signature) == checksum(m["from"])
        except InvalidSignatureError:
            return False

    def outside(self, data: bytes | None, member: str) -> str | None:
        """The revert's error, if it names a cause outside the member: a pause, or a role that an
        account other than the member lacks (a contract the call goes through)."""
        if not data or len(data) < 4:
            return None
        error = self.decoder.decode(data)
        if error.name == "AccessControlUnauthorizedAccount":
            account = str(error.args_.get("account", ""))
            return None if account.lower() == member.lower() else str(error)
        return self.causes.outside(data)

    def inner_reasons(
        self,
        cases: Sequence[tuple[list[dict[str, Any]], dict[str, Any]]],
        *,
        ok: Any,
        time: int | None,
        block: str,
    ) -> list[tuple[bytes | None, str]]:
        """For each (requests before it, request): the request's call simulated from the forwarder
        with its signer appended, after the calls of the requests before it that ran well (`ok`),
        at `block`; its revert data and decoded reason. One JSON-RPC batch for all."""
        if not cases:
            return []
        calls = []
        for before, m in cases:
            prior = [forward.inner_call(self.forwarder, b) for b in before if ok(b)]
            block_calls: dict[str, Any] = {"calls": [*prior, forward.inner_call(self.forwarder, m)]}
            if time is not None:
                block_calls["blockOverrides"] = {"time": hex(time)}
            calls.append(("eth_simulateV1", [{"blockStateCalls": [block_calls], "validation": False}, block]))
        out: list[tuple[bytes | None, str]] = []
        for reply in self.rpc.batch(calls):
            if isinstance(reply, Exception):
                out.append((None, f"(no reason: the node could not simulate it: {reply})"))
                continue
            last = reply[0]["calls"][-1]
            raw = str(last.get("returnData") or "0x")
            data = bytes.fromhex(raw[2:])
            if int(last["status"], 16) == 1:
                out.append((None, "(no reason: it does not revert when simulated alone)"))
            elif data:
                out.append((data, forward.explain(self.decoder.decode(data))))
            else:
                out.append((None, str((last.get("error") or {}).get("message", "reverted without data"))))
        return out
