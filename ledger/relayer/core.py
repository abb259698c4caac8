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

import logging
import time
from typing import Any

from eth_hash.auto import keccak
from sqlalchemy import exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from ..db import read_scope, session_scope
from ..errors import DeploymentError
from ..models import IN_FLIGHT, Action, ActionStatus, RelayTx
from .base import ChainView, TickReport, next_base_fee
from .inflight import InFlight
from .kinds import KINDS, STAFF
from .nonces import ChainNonces, needs_reconcile, reconcile
from .staff import StaffBatching

log = logging.getLogger(__name__)

HAS_ROLE = "0x91d14854"  # AccessControl.hasRole(bytes32,address)
RELAYER_ROLE = keccak(b"RELAYER_ROLE").hex()
_HAS_WORK = select(literal(1)).where(
    exists().where(col(Action.status) == ActionStatus.QUEUED)
    | exists().where(col(RelayTx.status).in_(IN_FLIGHT))
)


class Relayer(InFlight, StaffBatching):
    """`tick()` is safe to call repeatedly, after any crash, and from several processes at once."""

    def tick_if_due(self) -> TickReport | None:
        """The scheduled entry point: a full `tick()` when actions wait or transactions are in
        flight, and otherwise at least every `relayer_idle_interval` seconds, so the reorg watch, the
        alarms and the balance checks stay current; in between, one cheap read (None). A city's
        server idles most of the day: ten full ticks a second cost about a tenth of a core."""
        now = time.monotonic()
        if (
            self._last_tick_ok
            and now - self._full_tick_at < self.settings.relayer_idle_interval
            and not self._has_work()
        ):
            return None
        self._full_tick_at, self._last_tick_ok = now, False
        report = self.tick()
        self._last_tick_ok = True  # after a failure every call ticks in full, as before
        return report

    def _has_work(self) -> bool:
        with read_scope(self.engine) as s:
            return s.connection().execute(_HAS_WORK).first() is not None

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
        return ChainView(
            head=int(block["number"], 16),
            base_fee=next_base_fee(block),
            nonces=nonces,
            gas_limit=int(block["gasLimit"], 16),
            time=int(block["timestamp"], 16),
        )

    def check_deployment(self, view: ChainView) -> None:
        """Refuses to send anything to a chain that lacks our contracts (a node restarted empty, or
        the wrong node): a call to an address without code succeeds and records nothing. Refuses
        too while a relayer key lacks RELAYER_ROLE on a target: its batches would revert, and the
        actions in them would fail after a few tries instead of waiting for the grant."""
        now = time.monotonic()
        if view.head >= self._checked_head and now - self._checked_at < 10:
            return
        targets = {
            k.contract: self.deployment.address(k.contract)
            for k in KINDS.values()
            if k.contract in self.deployment.contracts
        }
        pairs = [(name, key) for name in targets for key in self.keys]
        if STAFF.contract in self.deployment.contracts:  # code only: the forwarder has no roles
            targets[STAFF.contract] = self.deployment.address(STAFF.contract)
        calls: list[tuple[str, list[Any]]] = [("eth_getCode", [t, "latest"]) for t in targets.values()]
        calls += [
            (
                "eth_call",
                [
                    {"to": targets[name], "data": HAS_ROLE + RELAYER_ROLE + key[2:].lower().rjust(64, "0")},
                    "latest",
                ],
            )
            for name, key in pairs
        ]
        replies = self.rpc.batch(calls)
        codes, roles = replies[: len(targets)], replies[len(targets) :]
        missing = [
            t
            for t, c in zip(targets.values(), codes, strict=True)
            if not isinstance(c, str) or c in ("0x", "0x0")
        ]
        if missing:
            self.alarms["deployment"] = (
                f"the node at block {view.head} has no code at {missing}; nothing is sent"
            )
            self._checked_at = -1e9
            raise DeploymentError(self.alarms["deployment"])
        self.alarms.pop("deployment", None)
        lacking = [
            f"{key} on {name}"
            for (name, key), reply in zip(pairs, roles, strict=True)
            if isinstance(reply, str) and int(reply, 16) == 0
        ]
        if lacking:
            self.alarms["roles"] = (
                f"relayer keys lack RELAYER_ROLE: {', '.join(lacking)}; nothing is sent until it is "
                "granted (docs/operations.md, Relayer keys)"
            )
            self._checked_at = -1e9
            raise DeploymentError(self.alarms["roles"])
        self.alarms.pop("roles", None)
        self._checked_head, self._checked_at = view.head, now

    def reconcile(self, view: ChainView, report: TickReport) -> None:
        with read_scope(self.engine) as s:  # one read for every key: most ticks need no write
            due = needs_reconcile(session=s, chain={k: view.nonces[k] for k in self.keys})
        if not due:
            return
        market = self._market(view)
        for key in due:
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
            balance = self.balances[key] = int(reply, 16)
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
