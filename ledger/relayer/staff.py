"""Staff requests: a lane per staff member, strictly in nonce order, through `StaffForwarder.executeBatch`.

Each flush reads the queued staff requests (kind "staff", oldest first) and, per staff member:

- waits while any of their requests is `submitted` (in a transaction not yet settled): the next
  runs only against the nonce the chain shows after it;
- resolves a request whose nonce the forwarder has already used (`nonces(member)` passed it): the
  `ExecutedForwardRequest(member, nonce)` log names the transaction, whose calldata shows whether
  it carried this very request (same digest): confirmed (success) or failed (its call reverted), or
  failed because another request took the nonce ("sign again");
- fails, with a clear reason, a request that can never run: a second request for a nonce already
  taken by an older one, or one whose predecessor (a lower nonce) failed or was never submitted;
- sends the member's run of consecutive nonces from the chain's next one.

A member always goes through the same relayer key (`lane`), like a resident. Several members' runs
share one `executeBatch` (refund receiver: the key itself, so an invalid request is skipped rather
than reverting the batch), at most `MAX_BATCH` requests. `staff_triage` pre-flights it; a request
that would fail is failed alone, never sent, and — since its nonce stays unused — the member's
later requests fail with it: "an earlier request of this staff member (nonce N) failed: …; sign
again". Re-preparing them is the member's job (the dashboard, or `api.staff_calls.act` again).
A request whose call fails only on chain (success=false) used its nonce: the later ones go on.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from ..chain.calls import calldata
from ..db import read_scope, session_scope
from ..kinds import staff as forward
from ..models import Action, ActionStatus
from ..types import checksum
from . import fees as fee_math
from .base import ChainView, TickReport
from .batching import DEADLINE_MARGIN, TX_GAS_CAP, Batching, _Room, lane
from .kinds import STAFF
from .nonces import allocate
from .preflight import Conditions
from .staff_triage import StaffPlan
from .state import fail_each, move

log = logging.getLogger(__name__)

_READ = 256  # queued staff requests read per flush
EARLIER_FAILED = "an earlier request of this staff member (nonce {nonce}) failed: {why}; sign again"


def cascade(session: Session, *, reasons: Mapping[str, str], from_: str, tx_id: int | None) -> list[str]:
    """Fails staff requests whose nonce stays unused, and with each its member's queued requests of
    higher nonces (they can never run); returns every id failed."""
    failed = fail_each(session, reasons=dict(reasons), from_=from_, tx_id=tx_id)
    if not failed:
        return []
    first: dict[str, tuple[int, str]] = {}  # member → (their lowest failed nonce, its reason)
    for action_id, resident, nonce in session.exec(
        select(Action.id, Action.resident, Action.nonce).where(col(Action.id).in_(failed))
    ).all():
        if resident not in first or nonce < first[resident][0]:
            first[resident] = (nonce, reasons[action_id])
    later: dict[str, str] = {}
    for resident, (nonce, why) in first.items():
        for action_id in session.exec(
            select(Action.id).where(
                Action.kind == STAFF.kind,
                Action.resident == resident,
                Action.status == ActionStatus.QUEUED,
                col(Action.nonce) > nonce,
            )
        ).all():
            later[action_id] = EARLIER_FAILED.format(nonce=nonce, why=why)
    return failed + fail_each(session, reasons=later, from_=ActionStatus.QUEUED, tx_id=None)


class StaffBatching(Batching):
    def _flush_extra(self, view: ChainView, report: TickReport, room: _Room) -> bool:
        if STAFF.contract not in self.deployment.contracts or room.full():
            return False
        target = (self.deployment.address(STAFF.contract).lower(), "0x" + STAFF.selector.hex())
        if target not in self.signer.policy.allowed:
            return False  # ESG_RELAYER_ALLOWLIST leaves staff requests out: they wait
        with read_scope(self.engine) as s:
            queued = list(
                s.exec(
                    select(Action)
                    .where(Action.status == ActionStatus.QUEUED, Action.kind == STAFF.kind)
                    .order_by(col(Action.created_at))
                    .limit(_READ)
                ).all()
            )
            if not queued:
                return False
            busy = set(
                s.exec(
                    select(Action.resident).where(
                        Action.kind == STAFF.kind,
                        Action.status == ActionStatus.SUBMITTED,
                        col(Action.resident).in_(list({a.resident for a in queued})),
                    )
                ).all()
            )
        now = time.time()
        late = {
            a.id: "deadline passed before the request could be sent"
            for a in queued
            if a.deadline <= now + DEADLINE_MARGIN
        }
        members: dict[str, list[Action]] = defaultdict(list)
        for a in queued:
            if a.id not in late and a.resident not in busy:
                members[a.resident].append(a)
        runs, fail, settled = self._runs(members)
        with session_scope(self.engine) as s:
            for action_id, (status, values, why) in settled.items():
                move(s, ids=[action_id], from_=ActionStatus.QUEUED, to=status, reason=why, values=values)
            failed = cascade(s, reasons={**late, **fail}, from_=ActionStatus.QUEUED, tx_id=None)
        report.failed += len(failed) + sum(1 for st, _, _ in settled.values() if st == ActionStatus.FAILED)
        report.confirmed += sum(1 for st, _, _ in settled.values() if st == ActionStatus.CONFIRMED)
        progress = bool(failed or settled)
        return self._send_runs(runs, view, report, room, now) or progress

    def _runs(
        self, members: dict[str, list[Action]]
    ) -> tuple[dict[str, list[Action]], dict[str, str], dict[str, tuple[str, dict[str, Any], str]]]:
        """Each member's run of consecutive nonces from the forwarder's next; the requests that can
        never run (id → why); the requests whose nonce is used, resolved (id → status, values, why)."""
        if not members:
            return {}, {}, {}
        forwarder = self.deployment.address(STAFF.contract)
        replies = self.rpc.batch(
            [
                ("eth_call", [{"to": forwarder, "data": calldata("nonces(address)", [m])}, "latest"])
                for m in members
            ]
        )
        runs: dict[str, list[Action]] = {}
        fail: dict[str, str] = {}
        settled: dict[str, tuple[str, dict[str, Any], str]] = {}
        for (member, actions), reply in zip(members.items(), replies, strict=True):
            if isinstance(reply, Exception):
                continue  # the node: this member waits for the next flush
            chain_next = int(reply, 16)
            taken: dict[int, Action] = {}
            for a in sorted(actions, key=lambda a: (a.nonce, a.created_at)):
                if a.nonce < chain_next:
                    settled[a.id] = self._resolve_used(a)
                elif a.nonce in taken:
                    fail[a.id] = (
                        f"another request of this staff member ({taken[a.nonce].id}) was given nonce "
                        f"{a.nonce} first; sign again"
                    )
                else:
                    taken[a.nonce] = a
            run: list[Action] = []
            for nonce in sorted(taken):
                if nonce == chain_next + len(run):
                    run.append(taken[nonce])
                else:
                    missing = chain_next + len(run)
                    fail[taken[nonce].id] = EARLIER_FAILED.format(
                        nonce=missing, why="it is not in the queue (failed, or never submitted)"
                    )
            if run:
                runs[member] = run
        return runs, fail, settled

    def _resolve_used(self, action: Action) -> tuple[str, dict[str, Any], str]:
        """A request whose nonce the forwarder has used: confirmed if the transaction that used it
        carried this very request and its call succeeded, failed otherwise."""
        m = json.loads(action.message)
        forwarder = self.deployment.address(STAFF.contract)
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": forwarder,
                    "topics": [STAFF.recorded_topic, "0x" + m["from"][2:].lower().rjust(64, "0")],
                    "fromBlock": hex(self.deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        for entry in logs:
            executed = forward.decode_executed(entry)
            if executed is None or executed.nonce != action.nonce:
                continue
            tx = self.rpc.call("eth_getTransactionByHash", [entry["transactionHash"]])
            ours = False
            if tx is not None and str(tx.get("to") or "").lower() == forwarder.lower():
                try:
                    requests, _ = forward.decode_requests(bytes.fromhex(str(tx["input"])[2:]))
                except ValueError:
                    requests = []
                ours = any(
                    forward.request_id(
                        self.deployment.chain_id, forwarder, forward.message_of(r, action.nonce)
                    )
                    == action.id
                    for r in requests
                    if checksum(r[0]) == checksum(m["from"])
                )
            where = {
                "tx_hash": entry["transactionHash"],
                "block_number": int(entry["blockNumber"], 16),
                "log_index": int(entry["logIndex"], 16),
            }
            if ours and executed.success:
                return (
                    ActionStatus.CONFIRMED,
                    {**where, "error": None},
                    "executed earlier, found by (signer, nonce)",
                )
            if ours:
                why = (
                    f"its call reverted on chain in {entry['transactionHash']} "
                    "(ExecutedForwardRequest success=false)"
                )
                return ActionStatus.FAILED, {**where, "error": why}, why
            why = (
                f"nonce {action.nonce} of {m['from']} was used by another request "
                f"(transaction {entry['transactionHash']}); sign again"
            )
            return ActionStatus.FAILED, {"error": why}, why
        why = f"nonce {action.nonce} of {m['from']} is used, but no ExecutedForwardRequest names it"
        return ActionStatus.FAILED, {"error": why}, why

    def _send_runs(
        self, runs: dict[str, list[Action]], view: ChainView, report: TickReport, room: _Room, now: float
    ) -> bool:
        size = min(self.settings.batch_max_size, STAFF.max_batch)
        lanes: dict[str, list[list[Action]]] = defaultdict(list)
        for member, run in sorted(runs.items(), key=lambda mr: min(a.created_at for a in mr[1])):
            lanes[self.keys[lane(member, len(self.keys))]].append(run)
        due: list[tuple[str, list[Action]]] = []
        for key, member_runs in lanes.items():
            if room.in_flight[key] >= self.settings.relayer_max_in_flight:
                continue
            batch: list[Action] = []
            for run in member_runs:
                if len(batch) + len(run) > size and batch:
                    break
                batch += run[: size - len(batch)]
            if len(batch) >= size or min(a.created_at for a in batch) <= now - self.settings.batch_max_age:
                due.append((key, batch))
        if not due:
            return False
        fees = self._market(view)
        forwarder = self.deployment.address(STAFF.contract)
        at_time = max(int(now), view.time + 1)

        def triage(key_batch: tuple[str, list[Action]]) -> StaffPlan:
            key, batch = key_batch
            at = Conditions(sender=key, to=forwarder, fees=fees, base_fee=view.base_fee, time=at_time)
            assert self.staff_triage is not None
            return self.staff_triage.plan(STAFF.for_relayer(key), at, batch)

        progress = False
        for (key, _), plan in zip(due, list(self._preflights.map(triage, due)), strict=True):
            progress = self._apply_staff_plan(plan, report) or progress
            if not plan.batch or room.full() or room.in_flight[key] >= self.settings.relayer_max_in_flight:
                continue
            gas = self._send_staff(key, plan, view, report, fees)
            if gas:
                progress = True
                room.in_flight[key] += 1
                if room.gas is not None:
                    room.gas -= gas
        return progress

    def _apply_staff_plan(self, plan: StaffPlan, report: TickReport) -> bool:
        if plan.fail:
            with session_scope(self.engine) as s:
                failed = cascade(s, reasons=plan.fail, from_=ActionStatus.QUEUED, tx_id=None)
            report.failed += len(failed)
            for action_id, why in plan.fail.items():
                log.warning("staff request %s fails: %s", action_id, why)
        waits = [plan.wait_all] if plan.wait_all else sorted(set(plan.wait.values()))
        if waits:
            message = f"staff requests wait in the queue: {'; '.join(waits)}"
            if self.alarms.get("waiting:staff") != message:
                log.warning("%s", message)
            self.alarms["waiting:staff"] = message
        return bool(plan.fail)

    def _send_staff(
        self, sender: str, plan: StaffPlan, view: ChainView, report: TickReport, fees: fee_math.Fees
    ) -> int:
        """The gas limit of the transaction stored and sent (0 if another process took the requests)."""
        assert plan.data is not None and plan.gas_used is not None
        used = plan.gas_used
        widest = max(int(json.loads(a.message)["gas"]) for a in plan.batch)
        # The forwarder calls each request with its `gas` and then checks that 1/63 of it is left
        # (or burns everything): before each call the transaction must still hold gas * 64/63. The
        # simulated figure is after refunds (at most a fifth of it comes back only at the end).
        gas = min(used + used // 4 + widest * 64 // 63 + 30_000, TX_GAS_CAP)
        with session_scope(self.engine) as s:
            nonce = allocate(session=s, sender=sender)
            tx = self.signer.new(
                s,
                sender=sender,
                nonce=nonce,
                kind=STAFF.kind,
                to=self.deployment.address(STAFF.contract),
                data=plan.data,
                gas=gas,
                fees=fees,
                action_count=len(plan.batch),
                valid_for=self.settings.tx_valid_for,
            )
            moved = move(
                s,
                ids=[a.id for a in plan.batch],
                from_=ActionStatus.QUEUED,
                to=ActionStatus.SUBMITTED,
                tx_id=tx.id,
                values={"tx_id": tx.id, "tx_hash": tx.tx_hash},
            )
            if len(moved) != len(plan.batch):  # another process took some of them: build again next time
                s.rollback()
                return 0
        self.alarms.pop("waiting:staff", None)
        report.submitted += len(plan.batch)
        self._send(tx, self._market(view), report)
        return gas
