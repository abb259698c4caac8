"""The relayer: batches queued actions into transactions, pays the gas, and settles them by receipt.

Every step is persisted before the next one happens, so a crash at any point is recovered by the
next `tick()`:

    queued ──flush──▶ submitted (tx stored as `signed`) ──broadcast──▶ tx `broadcast`
    tx receipt (at the confirmation depth) ──▶ action `confirmed` (its PloggingRecorded log)
                                           └─▶ action `failed` (its ActionFailed reason)
    tx reverted / lost ──▶ actions back to `queued`

A transaction is stored (raw bytes and hash) before it is broadcast, so a restart re-sends the
same bytes instead of signing anew; the contracts' per-resident nonce window makes recording the
same signed action twice impossible on-chain, and a duplicate attempt is resolved to the original
record by its digest.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from sqlalchemy import Engine, update
from sqlmodel import col, select

from indexer.decode import ACTION_FAILED, PLOGGING_RECORDED

from .db import session_scope
from .deploy import Deployment
from .errors import RpcError
from .models import Action, ActionStatus, RelayerAccount, RelayTx, TxStatus
from .revert import ErrorDecoder
from .rpc import Transport
from .settings import Settings

log = logging.getLogger(__name__)

_PLOGGING_TUPLE = "((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[]"
_RECORD_BATCH = keccak(f"recordBatch({_PLOGGING_TUPLE})".encode())[:4]
_NONCE_USED = keccak(b"SignedActionsNonceUsed(address,uint64)")[:4]
_TX_GAS_CAP = 16_000_000  # below the EIP-7825 per-transaction cap of 16,777,216
_MAX_ATTEMPTS = 5


def _encode_plogging(actions: list[Action]) -> bytes:
    items = []
    for a in actions:
        m = json.loads(a.message)
        session = (
            m["resident"],
            m["distanceMeters"],
            m["durationSeconds"],
            m["trashGrams"],
            m["areaCode"],
            m["startedAt"],
            bytes.fromhex(m["evidenceHash"][2:]),
            m["nonce"],
            m["deadline"],
        )
        items.append((session, bytes.fromhex(a.signature[2:])))
    return _RECORD_BATCH + encode([_PLOGGING_TUPLE], [items])


@dataclass
class TickReport:
    submitted: int = 0
    confirmed: int = 0
    failed: int = 0
    requeued: int = 0


class Relayer:
    """Owns the relayer keys. `tick()` is safe to call repeatedly and after any crash."""

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
        self.accounts = {a.address: a for a in accounts}
        self._next_account = itertools.cycle(list(self.accounts))
        self.decoder = ErrorDecoder([c.abi for c in deployment.contracts.values()])

    # -- the loop --------------------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport()
        if not self.settle(report):
            # Nothing in flight: start exactly at the chain's nonce (it may have moved either way).
            self.sync_nonces()
        for _ in range(32):  # bounded: one tick never monopolises the node
            if not self.flush(report):
                break
        return report

    def sync_nonces(self) -> None:
        """Never sign below the chain's nonce; with nothing in flight, start exactly at it."""
        replies = self.rpc.batch([("eth_getTransactionCount", [a, "pending"]) for a in self.accounts])
        for address, reply in zip(self.accounts, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            chain_next = int(reply, 16)
            with session_scope(self.engine) as s:
                row = s.get(RelayerAccount, address)
                in_flight = s.exec(
                    select(RelayTx.id).where(
                        RelayTx.sender == address,
                        col(RelayTx.status).in_([TxStatus.SIGNED, TxStatus.BROADCAST]),
                    )
                ).first()
                if row is None:
                    s.add(RelayerAccount(address=address, next_nonce=chain_next))
                elif row.next_nonce < chain_next or in_flight is None:
                    row.next_nonce = chain_next
                    s.add(row)

    # -- building and sending transactions --------------------------------------------------------

    def flush(self, report: TickReport) -> bool:
        """Sends one batch if a full one is queued or the oldest action waited long enough."""
        now = time.time()
        limit = self.settings.batch_max_size
        with session_scope(self.engine) as s:
            queued = list(
                s.exec(
                    select(Action)
                    .where(Action.status == ActionStatus.QUEUED, Action.kind == "plogging")
                    .order_by(col(Action.created_at))
                    .limit(limit)
                ).all()
            )
        if not queued or (len(queued) < limit and queued[0].created_at > now - self.settings.batch_max_age):
            return False
        expired = [a for a in queued if a.deadline <= now + 5]
        batch = [a for a in queued if a.deadline > now + 5]
        if expired:
            self._finish(
                expired, ActionStatus.FAILED, error="deadline passed before the action could be sent"
            )
            report.failed += len(expired)
        if not batch:
            return True
        sender = next(self._next_account)
        data = _encode_plogging(batch)
        target = self.deployment.address("PloggingRegistry")
        try:
            gas = int(
                self.rpc.call("eth_estimateGas", [{"from": sender, "to": target, "data": "0x" + data.hex()}]),
                16,
            )
        except RpcError as exc:
            self._batch_refused(batch, exc, report)
            return False
        gas = min(gas * 6 // 5 + 20_000, _TX_GAS_CAP)
        max_fee, tip = self._fees()
        with session_scope(self.engine) as s:
            account = s.get(RelayerAccount, sender, with_for_update=True)
            assert account is not None, "sync_nonces() creates every relayer account row"
            tx: dict[str, Any] = {
                "type": 2,
                "chainId": self.deployment.chain_id,
                "nonce": account.next_nonce,
                "to": target,
                "value": 0,
                "data": data,
                "gas": gas,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": tip,
            }
            signed = self.accounts[sender].sign_transaction(tx)
            row = RelayTx(
                sender=sender,
                nonce=account.next_nonce,
                tx_hash=signed.hash.to_0x_hex(),
                raw=signed.raw_transaction.to_0x_hex(),
                status=TxStatus.SIGNED,
                max_fee=max_fee,
                priority_fee=tip,
                gas_limit=gas,
                action_count=len(batch),
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            claimed: int = s.execute(  # type: ignore[attr-defined]  # a CursorResult at runtime
                update(Action)
                .where(col(Action.id).in_([a.id for a in batch]), col(Action.status) == ActionStatus.QUEUED)
                .values(status=ActionStatus.SUBMITTED, tx_id=row.id, tx_hash=row.tx_hash, updated_at=now)
            ).rowcount
            if claimed != len(batch):  # another relayer took some of them: sign again next time
                s.rollback()
                return True
            account.next_nonce += 1
            s.add(account)
        report.submitted += len(batch)
        self._broadcast(row)
        return len(queued) == limit

    def _fees(self) -> tuple[int, int]:
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        base = int(block.get("baseFeePerGas") or "0x0", 16)
        tip = int(self.settings.priority_fee_gwei * 10**9)
        cap = int(self.settings.max_fee_gwei * 10**9)
        return min(2 * base + tip, cap), min(tip, cap)

    def _broadcast(self, tx: RelayTx) -> None:
        try:
            self.rpc.call("eth_sendRawTransaction", [tx.raw])
        except RpcError as exc:
            message = exc.rpc_message.lower()
            if "already known" not in message and "already imported" not in message:
                log.warning("broadcast of %s (nonce %d) failed: %s", tx.tx_hash, tx.nonce, exc.rpc_message)
                return  # stays `signed`; settle() re-sends it or finds it settled
        except Exception as exc:
            log.warning("broadcast of %s failed: %s", tx.tx_hash, exc)
            return
        with session_scope(self.engine) as s:
            s.execute(
                update(RelayTx)
                .where(col(RelayTx.id) == tx.id, col(RelayTx.status) == TxStatus.SIGNED)
                .values(status=TxStatus.BROADCAST, updated_at=time.time())
            )

    def _batch_refused(self, batch: list[Action], exc: RpcError, report: TickReport) -> None:
        data = exc.data if isinstance(exc.data, str) and exc.data.startswith("0x") else None
        reason = self.decoder.text(bytes.fromhex(data[2:])) if data else exc.rpc_message
        log.error("the node refuses a batch of %d: %s", len(batch), reason)
        with session_scope(self.engine) as s:
            for a in batch:
                a.attempts += 1
                a.updated_at = time.time()
                if a.attempts >= _MAX_ATTEMPTS:
                    a.status, a.error = ActionStatus.FAILED, f"batch refused by the node: {reason}"
                    report.failed += 1
                s.add(a)

    # -- settling -------------------------------------------------------------------------------

    def settle(self, report: TickReport) -> bool:
        """Applies receipts at the confirmation depth; returns whether any transaction is in flight."""
        with session_scope(self.engine) as s:
            pending = list(
                s.exec(
                    select(RelayTx)
                    .where(col(RelayTx.status).in_([TxStatus.SIGNED, TxStatus.BROADCAST]))
                    .order_by(col(RelayTx.sender), col(RelayTx.nonce))
                ).all()
            )
        if not pending:
            return False
        head = int(self.rpc.call("eth_blockNumber"), 16)
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [t.tx_hash]) for t in pending])
        for tx, receipt in zip(pending, receipts, strict=True):
            if isinstance(receipt, Exception):
                log.warning("receipt of %s: %s", tx.tx_hash, receipt)
            elif receipt is None:
                self._unmined(tx, report)
            elif int(receipt["blockNumber"], 16) <= head - self.settings.confirmations + 1:
                self._apply_receipt(tx, receipt, report)
        return True

    def _unmined(self, tx: RelayTx, report: TickReport) -> None:
        if tx.status == TxStatus.BROADCAST and time.time() - tx.updated_at < self.settings.receipt_timeout:
            return
        latest = int(self.rpc.call("eth_getTransactionCount", [tx.sender, "latest"]), 16)
        if latest > tx.nonce:
            # The nonce is used by a transaction we do not know: ours is void. Its actions go back.
            with session_scope(self.engine) as s:
                stored = s.get(RelayTx, tx.id)
                if stored is None or stored.status not in (TxStatus.SIGNED, TxStatus.BROADCAST):
                    return
                stored.status, stored.updated_at = TxStatus.DROPPED, time.time()
                s.add(stored)
                report.requeued += self._requeue(s, tx.id)
            return
        self._broadcast(tx)
        with session_scope(self.engine) as s:
            s.execute(update(RelayTx).where(col(RelayTx.id) == tx.id).values(updated_at=time.time()))

    def _apply_receipt(self, tx: RelayTx, receipt: dict[str, Any], report: TickReport) -> None:
        block = int(receipt["blockNumber"], 16)
        recorded: dict[str, int] = {}
        failed: dict[str, bytes] = {}
        for entry in receipt["logs"]:
            topics = entry["topics"]
            if topics and topics[0] == PLOGGING_RECORDED:
                recorded[topics[1]] = int(entry["logIndex"], 16)
            elif topics and topics[0] == ACTION_FAILED:
                data = bytes.fromhex(entry["data"][2:])
                length = int.from_bytes(data[64:96], "big")
                failed[topics[1]] = data[96 : 96 + length]
        ok = int(receipt["status"], 16) == 1
        with session_scope(self.engine) as s:
            stored = s.get(RelayTx, tx.id)
            if stored is None or stored.status not in (TxStatus.SIGNED, TxStatus.BROADCAST):
                return
            stored.status = TxStatus.MINED if ok else TxStatus.REVERTED
            stored.block_number, stored.updated_at = block, time.time()
            s.add(stored)
            if not ok:
                log.error(
                    "transaction %s reverted; its %d actions go back to the queue",
                    tx.tx_hash,
                    tx.action_count,
                )
                report.requeued += self._requeue(s, tx.id)
                return
            for a in s.exec(select(Action).where(Action.tx_id == tx.id)).all():
                if a.id in recorded:
                    self._confirm(a, tx.tx_hash, block, recorded[a.id])
                    report.confirmed += 1
                elif (
                    a.id in failed
                    and failed[a.id][:4] == _NONCE_USED
                    and (earlier := self._find_record(a.id))
                ):
                    self._confirm(a, *earlier)  # recorded before, by an earlier transaction
                    report.confirmed += 1
                else:
                    reason = failed.get(a.id)
                    a.status = ActionStatus.FAILED
                    a.error = self.decoder.text(reason) if reason is not None else "no event for this action"
                    a.updated_at = time.time()
                    report.failed += 1
                s.add(a)

    @staticmethod
    def _confirm(a: Action, tx_hash: str, block: int, log_index: int) -> None:
        a.status, a.tx_hash, a.block_number, a.log_index = ActionStatus.CONFIRMED, tx_hash, block, log_index
        a.error, a.updated_at = None, time.time()

    def _find_record(self, digest: str) -> tuple[str, int, int] | None:
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": self.deployment.address("PloggingRegistry"),
                    "topics": [PLOGGING_RECORDED, digest],
                    "fromBlock": hex(self.deployment.start_block),
                    "toBlock": "latest",
                }
            ],
        )
        if not logs:
            return None
        first = logs[0]
        return first["transactionHash"], int(first["blockNumber"], 16), int(first["logIndex"], 16)

    def _requeue(self, s: Any, tx_id: int | None) -> int:
        actions = s.exec(select(Action).where(Action.tx_id == tx_id)).all()
        for a in actions:
            a.status, a.tx_id, a.tx_hash, a.updated_at = ActionStatus.QUEUED, None, None, time.time()
            a.attempts += 1
            if a.attempts >= _MAX_ATTEMPTS:
                a.status, a.error = ActionStatus.FAILED, "gave up after repeated transaction failures"
            s.add(a)
        return len(actions)

    def _finish(self, actions: list[Action], status: ActionStatus, *, error: str | None) -> None:
        with session_scope(self.engine) as s:
            s.execute(
                update(Action)
                .where(col(Action.id).in_([a.id for a in actions]), col(Action.status) == ActionStatus.QUEUED)
                .values(status=status, error=error, updated_at=time.time())
            )
