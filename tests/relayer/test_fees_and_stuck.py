"""Stuck transactions: re-priced with a bump of at least 10% when the base fee passes them, held
at the hard cap with an alarm, and past valid-until replaced with a no-op (actions re-queued)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from ledger.chain.rpc import HttpRpc

from ..support import Resident
from .conftest import Rig

GWEI = 10**9


def _spike_base_fee(rpc: HttpRpc, gwei: int) -> None:
    rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(gwei * GWEI)])
    rpc.call("evm_mine")  # this block's base fee is above the pending transaction's fee cap


@pytest.mark.usefixtures("manual_mining")
def test_underpriced_transaction_is_replaced_with_a_bump(make_rig: Callable[..., Rig], rpc: HttpRpc) -> None:
    rig = make_rig()
    ids = rig.accept([Resident() for _ in range(3)])
    rig.relayer.tick()
    [(first_hash, first_fee)] = rig.rows("SELECT tx_hash, max_fee FROM relay_attempt")
    _spike_base_fee(rpc, 100)
    assert rpc.call("eth_getTransactionReceipt", [first_hash]) is None

    rig.run_until(rig.all_final(ids), mine=True, ticks=20)

    attempts = rig.rows("SELECT tx_hash, max_fee, status FROM relay_attempt ORDER BY id")
    assert len(attempts) >= 2
    assert attempts[0][2] == "replaced" and attempts[-1][2] == "mined"
    assert all(b[1] * 10 >= a[1] * 11 for a, b in itertools.pairwise(attempts))
    assert attempts[-1][1] > first_fee
    assert rpc.call("eth_getTransactionReceipt", [first_hash]) is None
    assert rig.statuses(ids) == {"confirmed": 3}
    assert all(rig.chain_records()[i] == 1 for i in ids)
    [(tx_status, nonces)] = rig.rows("SELECT status, count(DISTINCT nonce) FROM relay_tx")
    assert (tx_status, nonces) == ("mined", 1)


@pytest.mark.usefixtures("manual_mining")
def test_a_transaction_stuck_at_the_fee_cap_raises_an_alarm(
    make_rig: Callable[..., Rig], rpc: HttpRpc
) -> None:
    rig = make_rig(max_fee_gwei=5.0)
    rig.accept([Resident()])
    rig.relayer.tick()
    _spike_base_fee(rpc, 50)
    rig.relayer.tick()
    assert any("fee cap" in a for a in rig.relayer.alarms.values())
    assert rig.rows("SELECT count(*) FROM relay_attempt") == [(1,)]  # nothing above the cap was signed
    rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(GWEI // 10)])  # the spike passes: it goes through
    rig.run_until(lambda: rig.statuses() == {"confirmed": 1}, mine=True, ticks=20)


@pytest.mark.usefixtures("manual_mining")
def test_past_valid_until_a_noop_takes_the_nonce_and_actions_requeue(
    make_rig: Callable[..., Rig], rpc: HttpRpc
) -> None:
    rig = make_rig(tx_valid_for=0.001)
    ids = rig.accept([Resident() for _ in range(2)])
    rig.relayer.tick()  # signed and sent
    _spike_base_fee(rpc, 100)  # keep it pending
    rig.run_until(
        lambda: bool(rig.rows("SELECT 1 FROM relay_tx WHERE status = 'expired'")), mine=True, ticks=10
    )

    [(nonce,)] = rig.rows("SELECT nonce FROM relay_tx WHERE status = 'expired'")
    noop = rig.rows("SELECT tx_hash FROM relay_attempt WHERE noop AND status = 'mined'")
    assert len(noop) == 1
    receipt = rpc.call("eth_getTransactionReceipt", [noop[0][0]])
    assert receipt["to"].lower() == rig.key.address.lower() and receipt["logs"] == []
    reasons = [
        r
        for (r,) in rig.rows(
            "SELECT reason FROM action_event WHERE from_status = 'submitted' AND to_status = 'queued'"
        )
    ]
    assert len(reasons) == 2 and all("expired" in r for r in reasons)

    rig.run_until(rig.all_final(ids), mine=True, ticks=10)
    assert rig.statuses(ids) == {"confirmed": 2}
    assert all(rig.chain_records()[i] == 1 for i in ids)
    assert rig.rows("SELECT nonce FROM relay_tx WHERE status = 'mined'") == [(nonce + 1,)]
