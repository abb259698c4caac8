"""The relayer: batches queued actions into transactions, pays the gas, and settles them by receipt.

One `tick()` (safe to run after any crash, and from several processes at once):
1. reads the chain: head, each key's mined and pending nonce, the base fee;
2. watches recently settled transactions: a block gone from the chain puts them back in flight;
3. settles in-flight transactions by the receipt of any of their attempts, and otherwise
   re-sends them, replaces them when stuck (fees +12.5%), or replaces them with a no-op past
   their valid-until; a nonce used by someone else drops the transaction and re-queues its actions;
4. reconciles each key's nonce with the chain and fills gaps with no-ops;
5. flushes batches: pre-flight, sign, store, then broadcast.
See docs/architecture.md for the state machines.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..db import read_scope, session_scope
from ..deploy import Deployment
from ..errors import ChainError, DeploymentError, LedgerError, RpcError
from ..models import IN_FLIGHT, Action, ActionStatus, RelayAttempt, RelayTx, TxStatus
from ..revert import ErrorDecoder
from ..rpc import Transport
from ..settings import Settings
from . import fees as fee_math
from .broadcast import Outcome, classify
from .kinds import KINDS, BatchKind
from .nonces import ChainNonces, allocate, reconcile
from .policy import TargetPolicy
from .preflight import Preflight
from .settle import NONCE_USED, apply_receipt, read_logs, requeue, unsettle, watched
from .signer import Signer
from .state import fail_each, move

log = logging.getLogger(__name__)

TX_GAS_CAP = 16_000_000  # below the EIP-7825 per-transaction cap of 16,777,216
DEADLINE_MARGIN = 5  # seconds: an action this close to its deadline would not be mined in time
GIVE_UP_BROADCASTS = 5  # a transaction the node rejected this many times is abandoned


@dataclass
class TickReport:
    submitted: int = 0
    confirmed: int = 0
    failed: int = 0
    requeued: int = 0
    replaced: int = 0
    noops: int = 0


@dataclass
class ChainView:
    head: int
    base_fee: int
    nonces: dict[str, ChainNonces]


@dataclass
class _Watch:
    head: int = -1
    checked: dict[int, str] = field(default_factory=dict)


def next_base_fee(block: dict[str, Any]) -> int:
    """EIP-1559: the base fee of the block after `block` (what a transaction sent now must beat)."""
    base = int(block.get("baseFeePerGas") or "0x0", 16)
    used, limit = int(block["gasUsed"], 16), int(block["gasLimit"], 16)
    target = max(1, limit // 2)
    if used > target:
        return base + max(1, base * (used - target) // target // 8)
    return base - base * (target - used) // target // 8


def lane(resident: str, lanes: int) -> int:
    """A resident's actions always go through the same key, so they are mined in nonce order."""
    return int.from_bytes(hashlib.blake2b(resident.lower().encode(), digest_size=4).digest(), "big") % lanes


class Relayer:
    """Owns the relayer keys. `tick()` is safe to call repeatedly, after any crash, from any process."""

    def __init__(
        self,
        *,
        engine: Engine,
        rpc: Transport,
        deployment: Deployment,
        settings: Settings,
        accounts: list[LocalAccount],
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.deployment = deployment
        self.settings = settings
        self.keys: list[str] = [str(a.address) for a in accounts]
        self.signer = Signer(
            accounts={a.address: a for a in accounts},
            chain_id=deployment.chain_id,
            policy=TargetPolicy(deployment, settings.relayer_allowlist),
        )
        self.decoder = ErrorDecoder([c.abi for c in deployment.contracts.values()])
        self.preflight = Preflight(rpc)
        self.alarms: dict[str, str] = {}
        self._watch = _Watch()
        self._balances_at = 0.0
        self._checked_head, self._checked_at = 0, -1e9

    # -- the loop --------------------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport()
        view = self.chain_view()
        self.check_deployment(view)
        self.check_settled(view)
        self.settle(view, report)
        self.reconcile(view, report)
        self.check_balances()
        for _ in range(64):  # bounded: one tick never monopolises the node
            if not self.flush(view, report):
                break
        return report

    def chain_view(self) -> ChainView:
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
        for key in self.keys:
            calls += [
                ("eth_getTransactionCount", [key, "latest"]),
                ("eth_getTransactionCount", [key, "pending"]),
            ]
        replies: list[Any] = []
        for r in self.rpc.batch(calls):
            if isinstance(r, Exception):
                raise r
            replies.append(r)
        block = replies[0]
        nonces = {
            key: ChainNonces(latest=int(replies[1 + 2 * i], 16), pending=int(replies[2 + 2 * i], 16))
            for i, key in enumerate(self.keys)
        }
        return ChainView(head=int(block["number"], 16), base_fee=next_base_fee(block), nonces=nonces)

    def check_deployment(self, view: ChainView) -> None:
        """Refuses to send anything to a chain that lacks our contracts (a node restarted empty, or
        the wrong node): a call to an address without code succeeds and records nothing."""
        now = time.monotonic()
        if view.head >= self._checked_head and now - self._checked_at < 10:
            return
        targets = [
            self.deployment.address(k.contract)
            for k in KINDS.values()
            if k.contract in self.deployment.contracts
        ]
        codes = self.rpc.batch([("eth_getCode", [t, "latest"]) for t in targets])
        missing = [
            t for t, c in zip(targets, codes, strict=True) if not isinstance(c, str) or c in ("0x", "0x0")
        ]
        if missing:
            self.alarms["deployment"] = (
                f"the node at block {view.head} has no code at {missing}; nothing is sent"
            )
            self._checked_at = -1e9
            raise DeploymentError(self.alarms["deployment"])
        self.alarms.pop("deployment", None)
        self._checked_head, self._checked_at = view.head, now

    def _market(self, view: ChainView) -> fee_math.Fees:
        return fee_math.market(
            view.base_fee, tip_gwei=self.settings.priority_fee_gwei, cap_gwei=self.settings.max_fee_gwei
        )

    # -- reorgs and lost blocks ------------------------------------------------------------------

    def check_settled(self, view: ChainView) -> None:
        """Un-settles transactions whose block is no longer on the node's chain."""
        since = max(0, min(view.head, self._watch.head) - self.settings.finality_depth)
        with read_scope(self.engine) as s:
            recent = watched(s, since_block=since)
        if not recent:
            self._watch.head = view.head
            return
        top = recent[-1]
        if view.head == self._watch.head and self._watch.checked.get(top.block_number or 0) == top.block_hash:
            return
        assert top.block_number is not None
        if top.block_number <= view.head:
            # Blocks chain by hash: if the newest one we rely on is intact, so is everything below it.
            header = self.rpc.call("eth_getBlockByNumber", [hex(top.block_number), False])
            if header is not None and header["hash"] == top.block_hash:
                self._watch = _Watch(view.head, {top.block_number: top.block_hash or ""})
                return
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [t.tx_hash]) for t in recent])
        for tx, receipt in zip(recent, receipts, strict=True):
            if isinstance(receipt, Exception):
                raise receipt
            if receipt is None or receipt["blockHash"] != tx.block_hash:
                where = "lost" if receipt is None else f"moved to block {int(receipt['blockNumber'], 16)}"
                with session_scope(self.engine) as s:
                    unsettle(s, tx=tx, why=f"block {tx.block_number} left the chain; transaction {where}")
        self._watch = _Watch(view.head)

    # -- settling in-flight transactions --------------------------------------------------------

    def settle(self, view: ChainView, report: TickReport) -> None:
        with read_scope(self.engine) as s:
            pending = list(
                s.exec(
                    select(RelayTx).where(col(RelayTx.status).in_(IN_FLIGHT)).order_by(col(RelayTx.nonce))
                ).all()
            )
            hashes: dict[int, list[str]] = defaultdict(list)
            if pending:
                for tx_id, tx_hash in s.exec(
                    select(RelayAttempt.tx_id, RelayAttempt.tx_hash).where(
                        col(RelayAttempt.tx_id).in_([t.id for t in pending])
                    )
                ).all():
                    hashes[tx_id].append(tx_hash)
        if not pending:
            return
        calls = [(t, h) for t in pending for h in hashes[t.id or 0]]
        replies = self.rpc.batch([("eth_getTransactionReceipt", [h]) for _, h in calls])
        found: dict[int, dict[str, Any]] = {}
        for (tx, _), reply in zip(calls, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            if reply is not None:
                found[tx.id or 0] = reply
        # A node may drop a pooled transaction (anvil does once the base fee passes its fee cap;
        # geth evicts under pressure): those are sent again now rather than after a timeout.
        unmined = [t for t in pending if t.status == TxStatus.BROADCAST and (t.id or 0) not in found]
        known = self.rpc.batch([("eth_getTransactionByHash", [t.tx_hash]) for t in unmined])
        forgotten = {t.id for t, k in zip(unmined, known, strict=True) if k is None}
        market = self._market(view)
        for tx in pending:
            receipt = found.get(tx.id or 0)
            if tx.id in forgotten:
                log.info(
                    "the node forgot %s (nonce %d of %s): sending it again", tx.tx_hash, tx.nonce, tx.sender
                )
                tx.status = TxStatus.SIGNED
            try:
                if receipt is not None:
                    if int(receipt["blockNumber"], 16) <= view.head - self.settings.confirmations + 1:
                        self._apply(tx, receipt, report)
                elif tx.sender in view.nonces and view.nonces[tx.sender].latest > tx.nonce:
                    self._dropped(tx, report)
                else:
                    self._unmined(tx, market, view.base_fee, report)
            except LedgerError:
                # One transaction's trouble must not stall the others, nor new batches.
                log.exception("settling %s (nonce %d of %s)", tx.tx_hash, tx.nonce, tx.sender)

    def _apply(self, tx: RelayTx, receipt: dict[str, Any], report: TickReport) -> None:
        earlier: dict[str, tuple[str, int, int]] = {}
        ok = int(receipt["status"], 16) == 1
        for digest, reason in (self._failed_logs(receipt) if ok else {}).items():
            if reason[:4] == NONCE_USED and (record := self._find_record(digest)) is not None:
                earlier[digest] = record
        with session_scope(self.engine) as s:
            confirmed, failed, requeued = apply_receipt(
                s, tx=tx, receipt=receipt, earlier=earlier, decoder=self.decoder
            )
        report.confirmed += confirmed
        report.failed += failed
        report.requeued += requeued

    @staticmethod
    def _failed_logs(receipt: dict[str, Any]) -> dict[str, bytes]:
        return read_logs(receipt).failed

    def _dropped(self, tx: RelayTx, report: TickReport) -> None:
        with session_scope(self.engine) as s:
            stored = s.get(RelayTx, tx.id, with_for_update=True)
            if stored is None or stored.status not in IN_FLIGHT:
                return
            log.warning("nonce %d of %s was used by a transaction we did not send", tx.nonce, tx.sender)
            stored.status, stored.updated_at = TxStatus.DROPPED, time.time()
            s.add(stored)
            report.requeued += requeue(s, tx_id=tx.id, reason=f"nonce {tx.nonce} used by another transaction")

    def _unmined(self, tx: RelayTx, market: fee_math.Fees, base_fee: int, report: TickReport) -> None:
        now = time.time()
        expired = tx.valid_until is not None and now > tx.valid_until and tx.kind != "noop"
        if expired and not self._current_is_noop(tx):
            self._replace(tx, market, report, noop=True)
        elif tx.status == TxStatus.SIGNED:
            self._send(tx, market, report)
        elif tx.max_fee < base_fee or now - (tx.sent_at or tx.created_at) > self.settings.tx_replace_after:
            # Priced below the next block's base fee it cannot be mined: no need to wait for the timeout.
            self._replace(tx, market, report, noop=self._current_is_noop(tx))
        elif now - tx.updated_at > self.settings.receipt_timeout:
            self._send(tx, market, report)  # the node may have lost it (restart): same bytes again

    def _current_is_noop(self, tx: RelayTx) -> bool:
        with read_scope(self.engine) as s:
            attempt = s.exec(
                select(RelayAttempt).where(RelayAttempt.tx_id == tx.id, RelayAttempt.tx_hash == tx.tx_hash)
            ).first()
        return attempt is not None and attempt.noop

    def _send(self, tx: RelayTx, market: fee_math.Fees, report: TickReport) -> Outcome:
        try:
            self.rpc.call("eth_sendRawTransaction", [tx.raw])
            outcome = Outcome.ACCEPTED
        except ChainError as exc:
            outcome = classify(exc)
            log.log(
                logging.INFO if outcome is Outcome.UNDERPRICED else logging.WARNING,
                "broadcast of %s (nonce %d) %s: %s",
                tx.tx_hash,
                tx.nonce,
                outcome.value,
                exc,
            )
        now = time.time()
        values: dict[str, Any] = {"updated_at": now}
        if outcome is Outcome.ACCEPTED:
            values.update(status=TxStatus.BROADCAST, sent_at=now, broadcasts=0)
        elif outcome in (Outcome.REJECTED, Outcome.TRANSIENT):
            values.update(broadcasts=RelayTx.broadcasts + 1)
        with session_scope(self.engine) as s:
            s.execute(
                update(RelayTx)
                .where(col(RelayTx.id) == tx.id, col(RelayTx.status).in_(IN_FLIGHT))
                .values(**values)
            )
        if outcome is Outcome.UNDERPRICED and tx.status == TxStatus.SIGNED:
            # Below the base fee now (the node would not even pool it): re-price at once.
            self._replace(tx, market, report, noop=self._current_is_noop(tx))
        elif outcome is Outcome.REJECTED and tx.broadcasts + 1 >= GIVE_UP_BROADCASTS:
            self._abandon(tx, report)
        return outcome

    def _replace(self, tx: RelayTx, market: fee_math.Fees, report: TickReport, *, noop: bool) -> None:
        new_fees = fee_math.bump(
            fee_math.Fees(tx.max_fee, tx.priority_fee), market, cap_gwei=self.settings.max_fee_gwei
        )
        if new_fees is None:
            self.alarms[f"stuck:{tx.sender}"] = (
                f"transaction {tx.tx_hash} (nonce {tx.nonce}) is stuck at the fee cap "
                f"ESG_MAX_FEE_GWEI={self.settings.max_fee_gwei:g}"
            )
            log.error("%s", self.alarms[f"stuck:{tx.sender}"])
            return
        self.alarms.pop(f"stuck:{tx.sender}", None)
        with session_scope(self.engine) as s:
            replaced = self.signer.replace(s, tx=tx, fees=new_fees, noop=noop)
        if replaced is None:
            return
        log.info(
            "replaced %s (nonce %d) with %s%s: max fee %d → %d wei",
            tx.tx_hash,
            tx.nonce,
            replaced.tx_hash,
            " (a no-op)" if noop else "",
            tx.max_fee,
            new_fees.max_fee,
        )
        report.replaced += 1
        self._send(replaced, market, report)

    def _abandon(self, tx: RelayTx, report: TickReport) -> None:
        """The node will never take this transaction: give its nonce back, or fill it with a no-op."""
        with session_scope(self.engine) as s:
            stored = s.get(RelayTx, tx.id, with_for_update=True)
            if stored is None or stored.status != TxStatus.SIGNED:
                return
            stored.status, stored.updated_at = TxStatus.DROPPED, time.time()
            s.add(stored)
            report.requeued += requeue(s, tx_id=tx.id, reason="the node rejected the transaction")
        log.error("abandoned %s (nonce %d) after %d rejections", tx.tx_hash, tx.nonce, GIVE_UP_BROADCASTS)
        # reconcile() gives the nonce back if it was the key's last, or fills it with a no-op.

    # -- nonces ------------------------------------------------------------------------------------

    def reconcile(self, view: ChainView, report: TickReport) -> None:
        market = self._market(view)
        for key in self.keys:
            sent: list[RelayTx] = []
            try:
                with session_scope(self.engine) as s:
                    for nonce in reconcile(session=s, sender=key, chain=view.nonces[key]):
                        log.warning("nonce %d of %s is a gap: filling it with a no-op", nonce, key)
                        sent.append(self.signer.noop(s, sender=key, nonce=nonce, fees=market))
            except IntegrityError:
                continue  # another process filled it first
            for tx in sent:
                report.noops += 1
                self._send(tx, market, report)

    # -- balances ---------------------------------------------------------------------------------

    def check_balances(self) -> None:
        now = time.monotonic()
        if now - self._balances_at < self.settings.relayer_balance_interval:
            return
        self._balances_at = now
        minimum = int(self.settings.relayer_min_balance_eth * 10**18)
        replies = self.rpc.batch([("eth_getBalance", [k, "latest"]) for k in self.keys])
        for key, reply in zip(self.keys, replies, strict=True):
            if isinstance(reply, Exception):
                continue
            balance = int(reply, 16)
            if balance < minimum:
                message = (
                    f"relayer {key} holds {balance / 10**18:.4f} ETH, below "
                    f"ESG_RELAYER_MIN_BALANCE_ETH={self.settings.relayer_min_balance_eth:g}"
                )
                if self.alarms.get(f"balance:{key}") is None:
                    log.error("low balance: %s", message)
                self.alarms[f"balance:{key}"] = message
            else:
                self.alarms.pop(f"balance:{key}", None)

    # -- building and sending batches -------------------------------------------------------------

    def flush(self, view: ChainView, report: TickReport) -> bool:
        """Sends what is due (a full lane, or one whose oldest action waited); True if it sent any."""
        sent = False
        for kind in KINDS.values():
            if kind.contract in self.deployment.contracts:
                sent = self._flush_kind(kind, view, report) or sent
        return sent

    def _flush_kind(self, kind: BatchKind, view: ChainView, report: TickReport) -> bool:
        now = time.time()
        size = self.settings.batch_max_size
        with read_scope(self.engine) as s:
            in_flight: dict[str, int] = defaultdict(int)
            for sender, n in s.execute(
                select(RelayTx.sender, func.count())
                .where(col(RelayTx.status).in_(IN_FLIGHT))
                .group_by(col(RelayTx.sender))
            ).all():
                in_flight[sender] = n
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
        sent = False
        for i, actions in sorted(lanes.items()):
            key = self.keys[i]
            due = len(actions) >= size or actions[0].created_at <= now - self.settings.batch_max_age
            if due and in_flight[key] < self.settings.relayer_max_in_flight:
                batch = sorted(actions[:size], key=lambda a: (a.resident, a.nonce))
                sent = self._send_batch(kind, key, batch, view, report) or sent
        return sent

    def _send_batch(
        self, kind: BatchKind, sender: str, batch: list[Action], view: ChainView, report: TickReport
    ) -> bool:
        target = self.deployment.address(kind.contract)
        try:
            verdict = self.preflight.run(kind=kind, sender=sender, to=target, actions=batch)
        except RpcError as exc:
            self._batch_refused(batch, exc, report)
            return False
        if verdict.failed:
            batch = self._drop_failing(batch, verdict.failed, report)
            if not batch:
                return True
        if verdict.gas_used is not None:
            # Room for the 63/64 rule in the token call and for state that changed since the
            # simulation; blocks are packed by gas limit, so more room means fewer actions a block.
            gas = min(verdict.gas_used * 11 // 10 + 50_000, TX_GAS_CAP)
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
                return True
        report.submitted += len(batch)
        self._send(tx, self._market(view), report)
        return True

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

    def _find_record(self, digest: str) -> tuple[str, int, int] | None:
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": [self.deployment.address(k.contract) for k in KINDS.values()],
                    "topics": [sorted({k.recorded_topic for k in KINDS.values()}), digest],
                    "fromBlock": hex(self.deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        if not logs:
            return None
        first = logs[0]
        return first["transactionHash"], int(first["blockNumber"], 16), int(first["logIndex"], 16)
