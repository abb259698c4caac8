"""Transactions in flight: settled by receipt, re-sent, re-priced, replaced, expired or dropped;
settled ones watched until final, and put back in flight when their block leaves the chain."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from sqlmodel import col, select

from ..db import read_scope, session_scope
from ..errors import LedgerError, RpcError
from ..kinds import staff
from ..models import IN_FLIGHT, Action, ActionStatus, RelayAttempt, RelayTx, TxStatus
from ..types import checksum
from . import fees as fee_math
from .base import ChainView, RelayerBase, TickReport, _Watch
from .kinds import KINDS, STAFF
from .preflight import failure
from .settle import (
    NONCE_USED,
    apply_receipt,
    newest_watched,
    read_logs,
    requeue,
    tx_actions,
    unsettle,
    watched,
)

log = logging.getLogger(__name__)


class InFlight(RelayerBase):
    def check_settled(self, view: ChainView) -> None:
        """Un-settles transactions whose block is no longer on the node's chain."""
        # Blocks above the head are watched too (`>= since`): that is how lost blocks show.
        since = max(0, view.head - self.settings.finality_depth)
        with read_scope(self.engine) as s:
            top = newest_watched(s, since_block=since)
        if top is None:
            self._watch.head = view.head
            return
        if view.head == self._watch.head and self._watch.checked.get(top.block_number or 0) == top.block_hash:
            return
        assert top.block_number is not None
        if top.block_number <= view.head:
            # Blocks chain by hash: if the newest one we rely on is intact, so is everything below it.
            header = self.rpc.call("eth_getBlockByNumber", [hex(top.block_number), False])
            if header is not None and header["hash"] == top.block_hash:
                self._watch = _Watch(view.head, {top.block_number: top.block_hash or ""})
                return
        with read_scope(self.engine) as s:
            recent = watched(s, since_block=since)
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [t.tx_hash]) for t in recent])
        for tx, receipt in zip(recent, receipts, strict=True):
            if isinstance(receipt, Exception):
                raise receipt
            if receipt is None or receipt["blockHash"] != tx.block_hash:
                where = "lost" if receipt is None else f"moved to block {int(receipt['blockNumber'], 16)}"
                with session_scope(self.engine) as s:
                    unsettle(s, tx=tx, why=f"block {tx.block_number} left the chain; transaction {where}")
        self._watch = _Watch(view.head)

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
        if tx.kind == STAFF.kind and ok:
            self._apply_staff(tx, receipt, report)
            return
        for digest, reason in (self._failed_logs(receipt) if ok else {}).items():
            if reason[:4] == NONCE_USED and (record := self._find_record(digest)) is not None:
                earlier[digest] = record
        with read_scope(self.engine) as s:
            actions = tx_actions(s, tx_id=tx.id)
        charge: list[str] = []
        why, outside = "", False
        if not ok and actions and not self._is_noop_receipt(tx, receipt):
            why, outside = self._why_reverted(tx, receipt)
            # Blame falls on an action only when it was alone: in a larger transaction nothing tells
            # which entry did it, so they are bisected, and none is counted an attempt.
            if not outside and (len(actions) == 1 or tx.kind == STAFF.kind):
                # A staff batch has no bisection: each of its requests is counted an attempt, so a
                # batch that keeps reverting on chain gives up after MAX_ATTEMPTS.
                charge = [a for a, _ in actions]
        with session_scope(self.engine) as s:
            settled = apply_receipt(
                s,
                tx=tx,
                receipt=receipt,
                earlier=earlier,
                decoder=self.decoder,
                revert_charge=charge,
                revert_reason=why,
            )
        report.confirmed += settled.confirmed
        report.failed += settled.failed
        report.requeued += settled.requeued
        ids = [a for a, _ in actions]
        if tx.kind == STAFF.kind:
            return  # isolation is the residents' (quarantine, bisection); staff go by nonce order
        if ok:
            self.isolation.clear(set(ids) - set(settled.silent))
            blamed = {r for a, r in actions if a in settled.silent}
            if blamed:
                self.isolation.quarantine(
                    blamed, f"their action has no event in {receipt['transactionHash']}"
                )
        elif not outside and charge:
            self.isolation.quarantine({actions[0][1]}, f"their action's transaction reverted on chain: {why}")
        elif not outside and len(ids) > 1:
            self.isolation.bisect(ids)

    def _apply_staff(self, tx: RelayTx, receipt: dict[str, Any], report: TickReport) -> None:
        """A mined staff batch: each request confirmed or failed by its (signer, nonce) log. For a
        request whose call reverted, the reason is that call simulated again from the forwarder,
        after the batch's requests before it, on the state of the block before (what the chain keeps)."""
        forwarder = self.deployment.address(STAFF.contract)
        executed: dict[tuple[str, int], bool] = {}
        for entry in receipt["logs"]:
            ours = str(entry.get("address", "")).lower() == forwarder.lower()
            if ours and (e := staff.decode_executed(entry)) is not None:
                executed[(e.signer, e.nonce)] = e.success
        with read_scope(self.engine) as s:
            actions = list(
                s.exec(select(Action).where(Action.tx_id == tx.id, Action.status == ActionStatus.SUBMITTED))
            )
        reasons: dict[str, str] = {}
        if any(v is False for v in executed.values()):
            ordered = self._in_calldata_order(tx, actions, forwarder)
            cases = [
                ([m for _, m in ordered[:i]], m)
                for i, (_, m) in enumerate(ordered)
                if executed.get((m["from"], m["nonce"])) is False
            ]
            assert self.staff_triage is not None
            found = self.staff_triage.inner_reasons(
                cases,
                ok=lambda m: executed.get((m["from"], m["nonce"])) is True,
                time=None,
                block=hex(max(0, int(receipt["blockNumber"], 16) - 1)),
            )
            failing = [a for a, m in ordered if executed.get((m["from"], m["nonce"])) is False]
            for action, (_, why) in zip(failing, found, strict=True):
                reasons[action.id] = f"its call reverted on chain: {why}"
        with session_scope(self.engine) as s:
            settled = apply_receipt(
                s,
                tx=tx,
                receipt=receipt,
                earlier={},
                decoder=self.decoder,
                forwarder=forwarder,
                staff_reasons=reasons,
            )
        report.confirmed += settled.confirmed
        report.failed += settled.failed
        report.requeued += settled.requeued

    def _in_calldata_order(
        self, tx: RelayTx, actions: list[Action], forwarder: str
    ) -> list[tuple[Action, dict[str, Any]]]:
        """The transaction's staff requests in the order its calldata runs them, with their messages."""
        sent = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        try:
            requests, _ = staff.decode_requests(bytes(sent["data"]))
        except ValueError:  # the current attempt is a no-op
            return []
        ordered: list[tuple[Action, dict[str, Any]]] = []
        for r in requests:
            for a in actions:
                if checksum(a.resident) != checksum(r[0]):
                    continue
                m = staff.message_of(r, a.nonce)
                if staff.request_id(self.deployment.chain_id, forwarder, m) == a.id:
                    ordered.append((a, m))
                    break
        return ordered

    def _is_noop_receipt(self, tx: RelayTx, receipt: dict[str, Any]) -> bool:
        return receipt.get("to") is not None and str(receipt["to"]).lower() == tx.sender.lower()

    def _why_reverted(self, tx: RelayTx, receipt: dict[str, Any]) -> tuple[str, bool]:
        """Why a transaction reverted, and whether for a cause outside its actions. Replays it at its
        block (the state after it: a pause mined before it shows) and probes pauses and roles now."""
        sent = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        target = self.deployment.address(STAFF.contract if tx.kind == STAFF.kind else KINDS[tx.kind].contract)
        probes = self.causes.probes(target=target, sender=tx.sender)
        if not sent["data"]:  # the current attempt is a no-op, the one mined the batch: probes only
            cause = self.causes.probed(self.rpc.batch(probes), target=target, sender=tx.sender)
            return (cause, True) if cause is not None else ("reverted", False)
        call = {
            "from": tx.sender,
            "to": target,
            "data": "0x" + bytes(sent["data"]).hex(),
            "gas": hex(int(sent["gas"])),
            "maxFeePerGas": hex(int(sent["maxFeePerGas"])),
            "maxPriorityFeePerGas": hex(int(sent["maxPriorityFeePerGas"])),
        }
        used = int(receipt.get("gasUsed", "0x0"), 16)
        replies = self.rpc.batch([("eth_call", [call, receipt["blockNumber"]]), *probes])
        replay, probed = replies[0], replies[1:]
        broken = failure(replay) if isinstance(replay, RpcError) else None
        if broken is not None and (cause := self.causes.outside(broken.data)) is not None:
            return cause, True
        if (cause := self.causes.probed(probed, target=target, sender=tx.sender)) is not None:
            return cause, True
        if broken is not None:
            return (self.decoder.text(broken.data) if broken.data else broken.why), False
        if used >= int(sent["gas"]) * 63 // 64:
            return f"out of gas ({used} of {int(sent['gas'])})", False
        return "it does not revert when replayed", False

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
