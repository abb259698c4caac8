"""Building and sending batches: lanes by resident, pre-flight, sign and store, then broadcast."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col, select

from ..db import read_scope, session_scope
from ..errors import RpcError
from ..models import IN_FLIGHT, Action, ActionStatus, RelayTx
from .base import ChainView, RelayerBase, TickReport
from .kinds import KINDS, BatchKind
from .nonces import allocate
from .preflight import Verdict
from .settle import NONCE_USED
from .state import fail_each, move

log = logging.getLogger(__name__)


TX_GAS_CAP = 16_000_000  # below the EIP-7825 per-transaction cap of 16,777,216
DEADLINE_MARGIN = 5  # seconds: an action this close to its deadline would not be mined in time


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
        """Sends what is due (a full lane, or one whose oldest action waited); True if it sent any.

        At most `relayer_pending_blocks` blocks' worth of gas waits in the node's pool: a node
        fills a block in its own order (anvil by fee, then by sender), so a transaction sent early
        can wait behind later ones. Kept to about a block, everything pooled fits the next block
        and the wait happens in the outbox instead, oldest action first.
        """
        room = self._room(view)
        sent = False
        for kind in KINDS.values():
            if kind.contract in self.deployment.contracts and not room.full():
                sent = self._flush_kind(kind, view, report, room) or sent
        return sent

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

    def _flush_kind(self, kind: BatchKind, view: ChainView, report: TickReport, room: _Room) -> bool:
        now = time.time()
        size = self.settings.batch_max_size
        with read_scope(self.engine) as s:
            queued = list(
                s.exec(
                    select(Action)
                    .where(Action.status == ActionStatus.QUEUED, Action.kind == kind.kind)
                    .order_by(col(Action.created_at))
                    .limit(size * len(self.keys))
                ).all()
            )
        if not queued:
            return False
        late = {
            a.id: "deadline passed before the action could be sent"
            for a in queued
            if a.deadline <= now + DEADLINE_MARGIN
        }
        if late:
            with session_scope(self.engine) as s:
                fail_each(s, reasons=late, from_=ActionStatus.QUEUED, tx_id=None)
            report.failed += len(late)
        lanes: dict[int, list[Action]] = defaultdict(list)
        for a in queued:
            if a.id not in late:
                lanes[lane(a.resident, len(self.keys))].append(a)
        # Oldest first: when the pool is full, the lane whose action waited longest goes next.
        due: list[tuple[str, list[Action]]] = []
        for i, actions in sorted(lanes.items(), key=lambda item: item[1][0].created_at):
            key = self.keys[i]
            if (
                len(actions) >= size or actions[0].created_at <= now - self.settings.batch_max_age
            ) and room.in_flight[key] < self.settings.relayer_max_in_flight:
                due.append((key, sorted(actions[:size], key=lambda a: (a.resident, a.nonce))))
        if not due:
            return False
        # Lanes hold different residents, so their pre-flights are independent: they run at once
        # (the node answers them in parallel), and only signing, storing and sending stay in order.
        target = self.deployment.address(kind.contract)
        verdicts = list(
            self._preflights.map(
                lambda lane_batch: self._preflight(kind, lane_batch[0], target, lane_batch[1]), due
            )
        )
        sent = False
        for (key, batch), verdict in zip(due, verdicts, strict=True):
            if room.full():
                break  # the pre-flight is not wasted work: the same batch goes next time
            gas = self._send_batch(kind, key, batch, view, report, verdict)
            if gas is not None:
                sent = True
                room.in_flight[key] += 1
                if room.gas is not None:
                    room.gas -= gas
        return sent

    def _preflight(
        self, kind: BatchKind, sender: str, target: str, batch: list[Action]
    ) -> Verdict | RpcError:
        try:
            return self.preflight.run(kind=kind, sender=sender, to=target, actions=batch)
        except RpcError as exc:
            return exc

    def _send_batch(
        self,
        kind: BatchKind,
        sender: str,
        batch: list[Action],
        view: ChainView,
        report: TickReport,
        verdict: Verdict | RpcError,
    ) -> int | None:
        """The gas limit of the transaction sent (0 if only failing actions were dropped); None if
        nothing was sent."""
        target = self.deployment.address(kind.contract)
        if isinstance(verdict, RpcError):
            self._batch_refused(batch, verdict, report)
            return None
        if verdict.failed:
            batch = self._drop_failing(batch, verdict.failed, report)
            if not batch:
                return 0
        if verdict.gas_used is not None:
            # The simulation's own figure, plus room for the 63/64 rule in the token call (at most
            # 1/63 of the total comes back only after the call), a refunded storage reset and some
            # slack. The pool budget counts gas limits, so a loose limit would leave blocks part
            # empty; one too tight reverts, and its actions go back to the queue.
            gas = min(verdict.gas_used + verdict.gas_used // 32 + 30_000, TX_GAS_CAP)
        else:
            gas = min((verdict.gas_estimate or TX_GAS_CAP) * 6 // 5 + 20_000, TX_GAS_CAP)
        fees = self._market(view)
        data = kind.encode_batch(batch)
        with session_scope(self.engine) as s:
            nonce = allocate(session=s, sender=sender)
            tx = self.signer.new(
                s,
                sender=sender,
                nonce=nonce,
                kind=kind.kind,
                to=target,
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
            fail_each(s, reasons=reasons, from_=ActionStatus.QUEUED, tx_id=None)
        report.confirmed += len(records)
        report.failed += len(reasons)
        return [a for a in batch if a.id not in failed]

    def _batch_refused(self, batch: list[Action], exc: RpcError, report: TickReport) -> None:
        data = exc.data if isinstance(exc.data, str) and exc.data.startswith("0x") else None
        reason = self.decoder.text(bytes.fromhex(data[2:])) if data else exc.rpc_message
        log.error("the node refuses a batch of %d: %s", len(batch), reason)
        with session_scope(self.engine) as s:
            s.execute(
                update(Action)
                .where(col(Action.id).in_([a.id for a in batch]))
                .values(attempts=Action.attempts + 1, updated_at=time.time())
            )
            gave_up = {a.id: f"batch refused by the node: {reason}" for a in batch if a.attempts + 1 >= 5}
            fail_each(s, reasons=gave_up, from_=ActionStatus.QUEUED, tx_id=None)
            report.failed += len(gave_up)
