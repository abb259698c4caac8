"""Building and sending batches: lanes by resident, triage (pre-flight), sign and store, then broadcast.

A lane is one relayer key: a resident always maps to the same one, so their actions are mined in
nonce order. Within a lane, actions that may share a transaction go in one batch; the actions of
quarantined and smart-account residents, and the suspects of a transaction that failed on chain,
go in transactions of their own (`isolation`). `triage` decides what each batch becomes: sent,
entries that break it failed alone, or everything waiting for a cause outside the actions. A
batch's failure is never charged to every action in it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from ..db import read_scope, session_scope
from ..enrolment_requests import enrolment_in_flight
from ..models import IN_FLIGHT, Action, ActionStatus, RelayTx
from . import fees as fee_math
from .base import ChainView, RelayerBase, TickReport
from .isolation import ERC1271_STIPEND
from .kinds import KINDS, BatchKind
from .nonces import allocate
from .preflight import SIMULATION_GAS, Conditions
from .settle import NONCE_USED
from .state import fail_each, move
from .triage import Plan

log = logging.getLogger(__name__)


TX_GAS_CAP = SIMULATION_GAS  # below the EIP-7825 per-transaction cap of 16,777,216
DEADLINE_MARGIN = 5  # seconds: an action this close to its deadline would not be mined in time
ALONE_PER_FLUSH = 16  # transactions of their own one key sends per flush, at most
_MAX_EXCLUDED = 500  # quarantined residents left out of the main read by SQL (more: in Python)


def lane(resident: str, lanes: int) -> int:
    """A resident's actions always go through the same key, so they are mined in nonce order."""
    return int.from_bytes(hashlib.blake2b(resident.lower().encode(), digest_size=4).digest(), "big") % lanes


@dataclass
class _Room:
    """What may still be sent this flush: transactions per key, and gas for the node's pool."""

    in_flight: dict[str, int]
    gas: int | None  # None: no limit

    def full(self) -> bool:
        return self.gas is not None and self.gas <= 0


class Batching(RelayerBase):
    def flush(self, view: ChainView, report: TickReport) -> bool:
        """Sends what is due (a full lane, or one whose oldest action waited); True if it sent or
        failed any (so the next flush may find more to do).

        At most `relayer_pending_blocks` blocks' worth of gas waits in the node's pool: a node
        fills a block in its own order (anvil by fee, then by sender), so a transaction sent early
        can wait behind later ones. Kept to about a block, everything pooled fits the next block
        and the wait happens in the outbox instead, oldest action first.
        """
        room = self._room(view)
        progress = False
        for kind in KINDS.values():
            if kind.contract in self.deployment.contracts and not room.full():
                progress = self._flush_kind(kind, view, report, room) or progress
        return self._flush_extra(view, report, room) or progress

    def _flush_extra(self, view: ChainView, report: TickReport, room: _Room) -> bool:
        """What else goes out this flush besides residents' batches (staff requests: relayer/staff.py)."""
        return False

    def _room(self, view: ChainView) -> _Room:
        """Counts what still waits in the pool: a transaction whose nonce the chain has passed is
        mined (or replaced) even if its receipt is not settled yet, and must not hold the next
        block's batches back (that costs a block on every round trip)."""
        in_flight: dict[str, int] = defaultdict(int)
        pending_gas = 0
        with read_scope(self.engine) as s:
            for sender, nonce, gas in s.execute(
                select(RelayTx.sender, RelayTx.nonce, RelayTx.gas_limit).where(
                    col(RelayTx.status).in_(IN_FLIGHT)
                )
            ).all():
                in_flight[sender] += 1
                chain = view.nonces.get(sender)
                if chain is None or nonce >= chain.latest:
                    pending_gas += int(gas)
        blocks = self.settings.relayer_pending_blocks
        return _Room(in_flight, int(blocks * view.gas_limit) - pending_gas if blocks else None)

    def _queued(self, kind: BatchKind, size: int) -> list[Action]:
        """The oldest queued actions of `kind`; quarantined residents' are read apart, a few, so a
        resident with a flood of actions in quarantine cannot fill the read and starve the rest."""
        quarantined = self.isolation.quarantined_residents()
        base = select(Action).where(Action.status == ActionStatus.QUEUED, Action.kind == kind.kind)
        # Held while their enrolment waits: the chain records it before their first reward.
        base = base.where(~enrolment_in_flight(col(Action.resident)))
        if kind.order_by is not None:
            # An ordered kind (plogging: a resident's sessions are recorded in the order they
            # happened) sends nothing more of a resident while one of theirs is in flight: were that
            # one to come back to the queue (a revert, a lost block), a later one mined meanwhile
            # would make it unrecordable (PloggingRegistrySessionOverlaps).
            flying = aliased(Action)
            base = base.where(
                ~exists().where(
                    col(flying.resident) == col(Action.resident),
                    col(flying.kind) == kind.kind,
                    col(flying.status) == ActionStatus.SUBMITTED,
                )
            )
        main = base
        if quarantined and len(quarantined) <= _MAX_EXCLUDED:
            main = base.where(col(Action.resident).not_in(quarantined))
        with read_scope(self.engine) as s:
            queued = list(s.exec(main.order_by(col(Action.created_at)).limit(size * len(self.keys))).all())
            if quarantined:
                queued += s.exec(
                    base.where(col(Action.resident).in_(quarantined[:_MAX_EXCLUDED]))
                    .order_by(col(Action.created_at))
                    .limit(ALONE_PER_FLUSH * len(self.keys))
                ).all()
        return list({a.id: a for a in queued}.values())

    def _learn_code(self, actions: list[Action]) -> None:
        """Looks up, once, whether each new resident has code (a smart account): those go alone."""
        unknown = self.isolation.unknown_code(a.resident for a in actions)
        if not unknown:
            return
        replies = self.rpc.batch([("eth_getCode", [r, "latest"]) for r in unknown])
        for resident, code in zip(unknown, replies, strict=True):
            if not isinstance(code, Exception):
                self.isolation.learn_code(resident, code)

    def _flush_kind(self, kind: BatchKind, view: ChainView, report: TickReport, room: _Room) -> bool:
        now = time.time()
        size = min(self.settings.batch_max_size, kind.max_batch)
        queued = self._queued(kind, size)
        if not queued:
            return False
        late = {
            a.id: "deadline passed before the action could be sent"
            for a in queued
            if a.deadline <= now + DEADLINE_MARGIN
        }
        if late:
            with session_scope(self.engine) as s:
                report.failed += len(fail_each(s, reasons=late, from_=ActionStatus.QUEUED, tx_id=None))
            self.isolation.clear(late)
        self._learn_code([a for a in queued if a.id not in late])
        lanes: dict[int, list[Action]] = defaultdict(list)
        for a in sorted(queued, key=lambda a: a.created_at):
            if a.id not in late:
                lanes[lane(a.resident, len(self.keys))].append(a)
        due: list[tuple[str, list[Action]]] = []
        for i, actions in lanes.items():
            key = self.keys[i]
            if room.in_flight[key] >= self.settings.relayer_max_in_flight:
                continue
            shared, alone = self.isolation.arrange(actions)
            due += [(key, batch) for batch in alone[:ALONE_PER_FLUSH]]
            if shared and (len(shared) >= size or shared[0].created_at <= now - self.settings.batch_max_age):
                due.append((key, sorted(shared[:size], key=kind.order)))
        if not due:
            return bool(late)
        # Oldest first: when the pool is full, the batch whose action waited longest goes next.
        due.sort(key=lambda kb: min(a.created_at for a in kb[1]))
        # Lanes hold different residents, so their pre-flights are independent: they run at once
        # (the node answers them in parallel), and only signing, storing and sending stay in order.
        fees = self._market(view)
        target = self.deployment.address(kind.contract)
        next_time = max(int(now), view.time + 1)

        def triage(key_batch: tuple[str, list[Action]]) -> Plan:
            at = Conditions(sender=key_batch[0], to=target, fees=fees, base_fee=view.base_fee, time=next_time)
            return self.triage.plan(kind, at, key_batch[1])

        plans = list(self._preflights.map(triage, due))
        progress = bool(late)
        for (key, _), plan in zip(due, plans, strict=True):
            progress = self._apply_failures(kind, plan, report) or progress
            if not plan.batch or room.full() or room.in_flight[key] >= self.settings.relayer_max_in_flight:
                continue  # the pre-flight is not wasted work: the same batch goes next time
            gas = self._send_batch(kind, key, plan, view, report, fees)
            if gas is not None:
                progress = True
                room.in_flight[key] += 1
                if room.gas is not None:
                    room.gas -= gas
        return progress

    def _apply_failures(self, kind: BatchKind, plan: Plan, report: TickReport) -> bool:
        """Fails the entries that break their batch, each with its reason; quarantines their residents."""
        if plan.fail:
            with session_scope(self.engine) as s:
                report.failed += len(fail_each(s, reasons=plan.fail, from_=ActionStatus.QUEUED, tx_id=None))
            self.isolation.clear(plan.fail)
            for action_id, why in plan.fail.items():
                log.warning("%s action %s fails alone: %s", kind.kind, action_id, why)
        if plan.culprits:
            self.isolation.quarantine(plan.culprits, f"their {kind.kind} action broke a batch")
        if plan.wait is not None:
            message = f"{kind.kind} actions wait in the queue: {plan.wait}"
            if self.alarms.get(f"waiting:{kind.kind}") != message:
                log.warning("%s", message)
            self.alarms[f"waiting:{kind.kind}"] = message
            if "ROLE" in plan.wait or "AccessControl" in plan.wait:
                self._checked_at = -1e9  # check_deployment looks at the roles again next tick
        return bool(plan.fail)

    def _send_batch(
        self,
        kind: BatchKind,
        sender: str,
        plan: Plan,
        view: ChainView,
        report: TickReport,
        fees: fee_math.Fees,
    ) -> int | None:
        """The gas limit of the transaction sent (0 if only failing actions were dropped); None if
        nothing was sent."""
        verdict = plan.verdict
        assert verdict is not None
        batch = plan.batch
        if verdict.failed:
            batch = self._drop_failing(batch, verdict.failed, report)
            if not batch:
                return 0
        # A smart account's wallet may burn up to its whole ERC-1271 allowance on chain whatever it
        # burnt in the simulation: the limit carries it, or the transaction would run out of gas.
        stipend = ERC1271_STIPEND * sum(1 for a in batch if self.isolation.smart(a))
        # What the chain's state may add between the pre-flight and the block (a support that
        # crosses its item's threshold after another batch landed: kinds declare it).
        stipend += kind.state_gas(batch)
        if verdict.gas_used is not None:
            # The simulation's own figure, plus room for the 63/64 rule in the token call (at most
            # 1/63 of the total comes back only after the call), a refunded storage reset and some
            # slack. The pool budget counts gas limits, so a loose limit would leave blocks part
            # empty; one too tight reverts, and its actions go back to the queue.
            gas = min(verdict.gas_used + verdict.gas_used // 32 + 30_000 + stipend, TX_GAS_CAP)
        else:
            gas = min((verdict.gas_estimate or TX_GAS_CAP) * 6 // 5 + 20_000 + stipend, TX_GAS_CAP)
        data = (
            plan.data if plan.data is not None and len(batch) == len(plan.batch) else kind.encode_batch(batch)
        )
        with session_scope(self.engine) as s:
            nonce = allocate(session=s, sender=sender)
            tx = self.signer.new(
                s,
                sender=sender,
                nonce=nonce,
                kind=kind.kind,
                to=self.deployment.address(kind.contract),
                data=data,
                gas=gas,
                fees=fees,
                action_count=len(batch),
                valid_for=self.settings.tx_valid_for,
            )
            moved = move(
                s,
                ids=[a.id for a in batch],
                from_=ActionStatus.QUEUED,
                to=ActionStatus.SUBMITTED,
                tx_id=tx.id,
                values={"tx_id": tx.id, "tx_hash": tx.tx_hash},
            )
            if len(moved) != len(batch):  # another process took some of them: build again next time
                s.rollback()
                return 0
        self.alarms.pop(f"waiting:{kind.kind}", None)
        report.submitted += len(batch)
        self._send(tx, self._market(view), report)
        return gas

    def _drop_failing(
        self, batch: list[Action], failed: dict[str, bytes | None], report: TickReport
    ) -> list[Action]:
        records: dict[str, tuple[str, int, int]] = {}
        reasons: dict[str, str] = {}
        for digest, reason in failed.items():
            if reason is None:
                continue  # fails only beside others in this batch: it waits for the next one
            if reason[:4] == NONCE_USED and (record := self._find_record(digest)) is not None:
                records[digest] = record
            else:
                reasons[digest] = self.decoder.text(reason)
        with session_scope(self.engine) as s:
            for digest, (tx_hash, block, log_index) in records.items():
                move(
                    s,
                    ids=[digest],
                    from_=ActionStatus.QUEUED,
                    to=ActionStatus.CONFIRMED,
                    reason="recorded earlier, found by its digest",
                    values={"tx_hash": tx_hash, "block_number": block, "log_index": log_index, "error": None},
                )
            failed_now = fail_each(s, reasons=reasons, from_=ActionStatus.QUEUED, tx_id=None)
        report.confirmed += len(records)
        report.failed += len(failed_now)
        self.isolation.clear([*records, *reasons])
        return [a for a in batch if a.id not in failed]
