"""What every part of the relayer shares: keys, node, database, settings, and sending.

`_send` broadcasts stored bytes and reads the node's answer (`broadcast.classify`); `_replace`
signs a new attempt for the same nonce with higher fees (or a no-op); `_abandon` drops a
transaction the node will never take, and blames its actions only when the node's reason is
about what they carry and the transaction held one of them. See docs/architecture.md, "The relayer".
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, update
from sqlmodel import col, select

from ..chain.revert import ErrorDecoder
from ..chain.rpc import Transport
from ..db import read_scope, session_scope
from ..deploy import Deployment
from ..errors import ChainError, RpcError
from ..models import IN_FLIGHT, RelayAttempt, RelayTx, TxStatus
from ..settings import Settings
from . import fees as fee_math
from .broadcast import Outcome, carried, classify
from .causes import Causes
from .isolation import Isolation
from .kinds import KINDS, STAFF
from .nonces import ChainNonces
from .policy import TargetPolicy
from .preflight import Preflight
from .settle import requeue, tx_actions
from .signer import Signer
from .staff_triage import StaffTriage
from .triage import Triage

log = logging.getLogger(__name__)

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
    gas_limit: int = 30_000_000  # the latest block's
    time: int = 0  # the latest block's timestamp


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


class RelayerBase:
    """Owns the relayer keys; the tick's parts (in-flight settling, batching) build on it."""

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
        self.isolation = Isolation()
        self.causes = Causes(deployment, self.decoder)
        self.triage = Triage(
            preflight=self.preflight, decoder=self.decoder, causes=self.causes, isolation=self.isolation
        )
        self._preflights = ThreadPoolExecutor(
            max_workers=max(1, len(self.keys)), thread_name_prefix="preflight"
        )
        self.staff_triage: StaffTriage | None = None
        if STAFF.contract in deployment.contracts:
            self.staff_triage = StaffTriage(
                rpc=rpc,
                decoder=self.decoder,
                causes=self.causes,
                chain_id=deployment.chain_id,
                forwarder=deployment.address(STAFF.contract),
            )
        self.alarms: dict[str, str] = {}
        self._watch = _Watch()
        self._balances_at = 0.0
        self.balances: dict[str, int] = {}  # key → wei, as of the latest balance check
        self._checked_head, self._checked_at = 0, -1e9
        self._full_tick_at, self._last_tick_ok = -1e9, False

    def close(self) -> None:
        """Stops the pre-flight threads (idle between ticks; they would end with the process)."""
        self._preflights.shutdown(wait=False, cancel_futures=True)

    def _market(self, view: ChainView) -> fee_math.Fees:
        return fee_math.market(
            view.base_fee, tip_gwei=self.settings.priority_fee_gwei, cap_gwei=self.settings.max_fee_gwei
        )

    def _current_is_noop(self, tx: RelayTx) -> bool:
        with read_scope(self.engine) as s:
            attempt = s.exec(
                select(RelayAttempt).where(RelayAttempt.tx_id == tx.id, RelayAttempt.tx_hash == tx.tx_hash)
            ).first()
        return attempt is not None and attempt.noop

    def _send(
        self, tx: RelayTx, market: fee_math.Fees, report: TickReport, *, reprice: bool = True
    ) -> Outcome:
        why = ""
        try:
            self.rpc.call("eth_sendRawTransaction", [tx.raw])
            outcome = Outcome.ACCEPTED
        except ChainError as exc:
            outcome = classify(exc)
            why = exc.rpc_message if isinstance(exc, RpcError) else str(exc)
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
        if outcome is Outcome.UNDERPRICED and tx.status == TxStatus.SIGNED and reprice:
            # Below the base fee now (the node would not even pool it): re-price at once.
            self._replace(tx, market, report, noop=self._current_is_noop(tx))
        elif outcome is Outcome.REJECTED and tx.broadcasts + 1 >= GIVE_UP_BROADCASTS:
            self._abandon(tx, report, why)
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
        self._send(replaced, market, report, reprice=False)  # still too low: the next tick raises it again

    def _abandon(self, tx: RelayTx, report: TickReport, why: str) -> None:
        """The node will never take this transaction: give its nonce back, or fill it with a no-op.

        Its actions go back to the queue with no attempt counted, unless the node's reason is about
        what the transaction carries (its size): then a lone action is failed with that reason, and
        the actions of a larger one are bisected (`isolation`)."""
        blamed: list[str] = []
        with session_scope(self.engine) as s:
            stored = s.get(RelayTx, tx.id, with_for_update=True)
            if stored is None or stored.status != TxStatus.SIGNED:
                return
            stored.status, stored.updated_at = TxStatus.DROPPED, time.time()
            s.add(stored)
            actions = tx_actions(s, tx_id=tx.id) if carried(why) else []
            if len(actions) == 1:
                blamed = [actions[0][0]]
                reason = f"the node refuses any transaction that carries it: {why}"
                report.failed += len(blamed)
            else:
                reason = f"the node rejected the transaction: {why}"
            report.requeued += requeue(s, tx_id=tx.id, reason=reason, charge=blamed, give_up=bool(blamed))
        log.error(
            "abandoned %s (nonce %d) after %d rejections: %s", tx.tx_hash, tx.nonce, GIVE_UP_BROADCASTS, why
        )
        if blamed:
            self.isolation.quarantine([actions[0][1]], f"the node refuses its action: {why}")
        elif len(actions) > 1:
            self.isolation.bisect([a for a, _ in actions])
        # reconcile() gives the nonce back if it was the key's last, or fills it with a no-op.

    def _find_record(self, digest: str) -> tuple[str, int, int] | None:
        """The log that recorded the action with this digest, whatever its kind, if any."""
        kinds = [k for k in KINDS.values() if k.contract in self.deployment.contracts]
        replies = self.rpc.batch(
            [
                (
                    "eth_getLogs",
                    [
                        {
                            "address": self.deployment.address(k.contract),
                            "topics": [k.recorded_topic, *([None] * (k.digest_topic - 1)), digest],
                            "fromBlock": hex(self.deployment.start_block),
                            "toBlock": "latest",
                        }
                    ],
                )
                for k in kinds
            ]
        )
        for logs in replies:
            if isinstance(logs, Exception):
                raise logs
            if logs:
                first = logs[0]
                return first["transactionHash"], int(first["blockNumber"], 16), int(first["logIndex"], 16)
        return None
