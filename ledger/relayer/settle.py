"""Settling transactions by receipt, and un-settling them when the chain forgets a block.

A receipt for any attempt of a nonce settles it:
    batch attempt, status 1 ──▶ tx `mined`; each action confirmed (its recorded event) or failed
                               (its ActionFailed reason; "nonce used" resolves to the earlier record)
    batch attempt, status 0 ──▶ tx `reverted`; its actions back to the queue
    no-op attempt           ──▶ tx `expired` (or `mined` for a gap filler); actions back to the queue
Back in the queue, an attempt is counted only against an action found at fault (`charge`): one that
was alone in a transaction that reverted with no cause outside it, or the only ones without an event
in a successful receipt. Reverts for outside causes (a pause), expiry, a nonce taken: no attempt.
Mined transactions stay watched to the finality depth: if the block that held one is no longer
on the node's chain (a reorg, or a node restarted from an older state), the transaction is in
flight again and its same bytes are re-sent; its actions go back to `submitted`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak
from sqlalchemy import bindparam
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from ..chain.decode import ACTION_FAILED
from ..chain.revert import ErrorDecoder
from ..kinds.staff import decode_executed
from ..models import IN_FLIGHT, Action, ActionStatus, AttemptStatus, RelayAttempt, RelayTx, TxStatus
from ..types import checksum
from .kinds import RECORDED_TOPICS, STAFF
from .state import confirm_each, fail_each, move

log = logging.getLogger(__name__)

NONCE_USED = keccak(b"SignedActionsNonceUsed(address,uint64)")[:4]
MAX_ATTEMPTS = 5


@dataclass
class ReceiptLogs:
    recorded: dict[str, int]  # digest → log index
    failed: dict[str, bytes]  # digest → ABI-encoded reason


def read_logs(receipt: dict[str, Any]) -> ReceiptLogs:
    out = ReceiptLogs({}, {})
    for entry in receipt["logs"]:
        topics = entry["topics"]
        if not topics:
            continue
        if topics[0] in RECORDED_TOPICS:
            out.recorded[topics[RECORDED_TOPICS[topics[0]]]] = int(entry["logIndex"], 16)
        elif topics[0] == ACTION_FAILED:
            data = bytes.fromhex(entry["data"][2:])
            length = int.from_bytes(data[64:96], "big")
            out.failed[topics[1]] = data[96 : 96 + length]
    return out


def tx_actions(session: Session, *, tx_id: int | None) -> list[tuple[str, str]]:
    """The (id, resident) of the transaction's actions still `submitted`."""
    rows = session.exec(
        select(Action.id, Action.resident).where(
            Action.tx_id == tx_id, Action.status == ActionStatus.SUBMITTED
        )
    ).all()
    return [(str(i), str(r)) for i, r in rows]


def requeue(
    session: Session,
    *,
    tx_id: int | None,
    reason: str,
    charge: Collection[str] = (),
    give_up: bool = False,
) -> int:
    """The tx's submitted actions go back to the queue; returns how many went back. An attempt is
    counted against the actions in `charge` only: those out of attempts fail (at once with `give_up`)."""
    ids = session.exec(
        select(Action.id).where(Action.tx_id == tx_id, Action.status == ActionStatus.SUBMITTED)
    ).all()
    return _requeue_ids(session, ids=list(ids), tx_id=tx_id, reason=reason, charge=charge, give_up=give_up)


def _requeue_ids(
    session: Session,
    *,
    ids: list[str],
    tx_id: int | None,
    reason: str,
    charge: Collection[str] = (),
    give_up: bool = False,
) -> int:
    charged = set(charge) & set(ids)
    rows = session.exec(select(Action.id, Action.attempts).where(col(Action.id).in_(list(charged)))).all()
    if give_up:
        failed = {a: reason for a, _ in rows}
    else:
        failed = {
            a: f"gave up after {MAX_ATTEMPTS} transactions; last: {reason}"
            for a, n in rows
            if n + 1 >= MAX_ATTEMPTS
        }
    fail_each(session, reasons=failed, from_=ActionStatus.SUBMITTED, tx_id=tx_id)
    back = [a for a in ids if a not in failed]
    cleared = {"tx_id": None, "tx_hash": None}
    moved = move(
        session,
        ids=[a for a in back if a in charged],
        from_=ActionStatus.SUBMITTED,
        to=ActionStatus.QUEUED,
        tx_id=tx_id,
        reason=reason,
        values={**cleared, "attempts": Action.attempts + 1},
    )
    moved += move(
        session,
        ids=[a for a in back if a not in charged],
        from_=ActionStatus.SUBMITTED,
        to=ActionStatus.QUEUED,
        tx_id=tx_id,
        reason=reason,
        values=cleared,
    )
    return len(moved)


@dataclass
class Settled:
    confirmed: int = 0
    failed: int = 0
    requeued: int = 0
    silent: list[str] = field(default_factory=list)  # actions blamed for having no event in the receipt


def apply_receipt(
    session: Session,
    *,
    tx: RelayTx,
    receipt: dict[str, Any],
    earlier: dict[str, tuple[str, int, int]],
    decoder: ErrorDecoder,
    revert_charge: Collection[str] = (),
    revert_reason: str = "",
    forwarder: str | None = None,
    staff_reasons: Mapping[str, str] | None = None,
) -> Settled:
    """Settles `tx` by `receipt`. `earlier`: digest → record. If the receipt says reverted, the
    actions go back to the queue and only `revert_charge` are counted an attempt. A staff
    transaction (kind "staff") settles by the `forwarder`'s ExecutedForwardRequest logs;
    `staff_reasons`: action id → why its call reverted (success=false)."""
    stored = session.get(RelayTx, tx.id, with_for_update=True)
    if stored is None or stored.status not in IN_FLIGHT:
        return Settled()
    mined_hash = receipt["transactionHash"]
    attempt = session.exec(
        select(RelayAttempt).where(RelayAttempt.tx_id == tx.id, RelayAttempt.tx_hash == mined_hash)
    ).one()
    for a in session.exec(select(RelayAttempt).where(RelayAttempt.tx_id == tx.id)).all():
        a.status = AttemptStatus.MINED if a.id == attempt.id else AttemptStatus.REPLACED
        session.add(a)
    stored.block_number = int(receipt["blockNumber"], 16)
    stored.block_hash = receipt["blockHash"]
    stored.tx_hash, stored.updated_at = mined_hash, time.time()
    ok = int(receipt["status"], 16) == 1
    if attempt.noop:
        stored.status = TxStatus.EXPIRED if stored.kind != "noop" else TxStatus.MINED
        session.add(stored)
        return Settled(requeued=requeue(session, tx_id=tx.id, reason="expired: a no-op took its nonce"))
    if not ok:
        stored.status = TxStatus.REVERTED
        session.add(stored)
        log.error(
            "transaction %s reverted%s; its %d actions go back to the queue",
            mined_hash,
            f" ({revert_reason})" if revert_reason else "",
            tx.action_count,
        )
        reason = f"transaction {mined_hash} reverted" + (f": {revert_reason}" if revert_reason else "")
        carried = len(tx_actions(session, tx_id=tx.id))
        requeued = requeue(session, tx_id=tx.id, reason=reason, charge=revert_charge)
        return Settled(failed=carried - requeued, requeued=requeued)
    stored.status = TxStatus.MINED
    session.add(stored)
    if stored.kind == STAFF.kind:
        assert forwarder is not None
        return _settle_staff(
            session, tx=stored, receipt=receipt, forwarder=forwarder, reasons=staff_reasons or {}
        )
    logs = read_logs(receipt)
    records: dict[str, tuple[str, int, int]] = {}
    reasons: dict[str, str] = {}
    silent: list[str] = []
    for action_id in session.exec(
        select(Action.id).where(Action.tx_id == tx.id, Action.status == ActionStatus.SUBMITTED)
    ).all():
        if action_id in logs.recorded:
            records[action_id] = (mined_hash, stored.block_number, logs.recorded[action_id])
        elif action_id in earlier:
            records[action_id] = earlier[action_id]  # recorded before, by an earlier transaction
        elif action_id in logs.failed:
            reasons[action_id] = decoder.text(logs.failed[action_id])
        else:
            silent.append(action_id)
    confirm_each(session, records=records, tx_id=tx.id)
    fail_each(session, reasons=reasons, from_=ActionStatus.SUBMITTED, tx_id=tx.id)
    settled = Settled(confirmed=len(records), failed=len(reasons))
    if silent:
        # The contract always says recorded or failed. Silence for all means the call reached no
        # contract (a node restarted empty, the wrong chain): no verdict on the actions, so they
        # wait. Silence for some, beside others' events, means the contract hashed those to other
        # digests (encoded otherwise than signed): theirs alone, so an attempt counts against them.
        log.error("transaction %s has no event for %d actions: back to the queue", mined_hash, len(silent))
        settled.silent = silent if records or reasons else []
        settled.requeued = _requeue_ids(
            session, ids=silent, tx_id=tx.id, reason=f"no event in {mined_hash}", charge=settled.silent
        )
    return settled


def _settle_staff(
    session: Session, *, tx: RelayTx, receipt: dict[str, Any], forwarder: str, reasons: Mapping[str, str]
) -> Settled:
    """Each staff request by its (signer, nonce) log: success → confirmed at that log; false → failed
    (its call reverted; its nonce is used, so the member's later requests still run); no log → the
    forwarder skipped it (its nonce was used meanwhile, or it expired on the way): back to the queue
    with an attempt counted, where the next flush resolves it by (signer, nonce)."""
    executed: dict[tuple[str, int], tuple[bool, int]] = {}
    for entry in receipt["logs"]:
        if str(entry.get("address", "")).lower() == forwarder.lower():
            found = decode_executed(entry)
            if found is not None:
                executed[(found.signer, found.nonce)] = (found.success, int(entry["logIndex"], 16))
    assert tx.block_number is not None
    records: dict[str, tuple[str, int, int]] = {}
    failed: dict[str, str] = {}
    silent: list[str] = []
    for action in session.exec(
        select(Action).where(Action.tx_id == tx.id, Action.status == ActionStatus.SUBMITTED)
    ).all():
        hit = executed.get((checksum(action.resident), action.nonce))
        if hit is None:
            silent.append(action.id)
        elif hit[0]:
            records[action.id] = (tx.tx_hash, tx.block_number, hit[1])
        else:
            failed[action.id] = (
                reasons.get(action.id) or "its call reverted on chain (ExecutedForwardRequest success=false)"
            )
    confirm_each(session, records=records, tx_id=tx.id)
    fail_each(session, reasons=failed, from_=ActionStatus.SUBMITTED, tx_id=tx.id)
    settled = Settled(confirmed=len(records), failed=len(failed))
    if silent:
        log.warning("transaction %s: the forwarder skipped %d staff requests", tx.tx_hash, len(silent))
        settled.requeued = _requeue_ids(
            session,
            ids=silent,
            tx_id=tx.id,
            reason=f"skipped by the forwarder in {tx.tx_hash}",
            charge=silent,
        )
    return settled


def unsettle(session: Session, *, tx: RelayTx, why: str) -> None:
    """A settled transaction's block left the chain: in flight again, same bytes, actions submitted."""
    stored = session.get(RelayTx, tx.id, with_for_update=True)
    if stored is None or stored.status in IN_FLIGHT:
        return
    if stored.status != TxStatus.MINED or stored.kind == "noop":
        # Its actions were already re-queued; only its nonce matters now, and a gap filler takes it.
        stored.status, stored.updated_at = TxStatus.DROPPED, time.time()
        session.add(stored)
        return
    log.warning("transaction %s (nonce %d) is no longer on the chain: %s", stored.tx_hash, stored.nonce, why)
    # `signed`: not known to be in the node's pool, so the next settle sends the same bytes again.
    stored.status, stored.block_number, stored.block_hash = TxStatus.SIGNED, None, None
    stored.sent_at = stored.updated_at = time.time()
    session.add(stored)
    for a in session.exec(select(RelayAttempt).where(RelayAttempt.tx_id == tx.id)).all():
        a.status = AttemptStatus.SENT if a.tx_hash == stored.tx_hash else AttemptStatus.REPLACED
        session.add(a)
    ids = list(session.exec(select(Action.id).where(Action.tx_id == tx.id)).all())
    for from_ in (ActionStatus.CONFIRMED, ActionStatus.FAILED):
        move(
            session,
            ids=ids,
            from_=from_,
            to=ActionStatus.SUBMITTED,
            tx_id=tx.id,
            reason=why,
            values={"block_number": None, "log_index": None, "error": None, "tx_hash": stored.tx_hash},
        )


# Built once (the relayer runs these every tick); the signed bytes, tens of kilobytes a batch, are
# not needed to watch a block.
_WATCHED = (
    select(RelayTx)
    .options(defer(RelayTx.raw))  # type: ignore[arg-type]
    .where(
        col(RelayTx.block_number) >= bindparam("since"),
        col(RelayTx.status).in_([TxStatus.MINED, TxStatus.REVERTED, TxStatus.EXPIRED]),
    )
)
_WATCHED_ALL = _WATCHED.order_by(col(RelayTx.block_number))
_WATCHED_NEWEST = _WATCHED.order_by(col(RelayTx.block_number).desc()).limit(1)


def watched(session: Session, *, since_block: int) -> list[RelayTx]:
    """Settled transactions recent enough that a reorg could still take them away."""
    return list(session.exec(_WATCHED_ALL, params={"since": since_block}).all())


def newest_watched(session: Session, *, since_block: int) -> RelayTx | None:
    """The watched transaction in the highest block: if its block is intact, so is every one below."""
    newest: RelayTx | None = session.exec(_WATCHED_NEWEST, params={"since": since_block}).first()
    return newest
