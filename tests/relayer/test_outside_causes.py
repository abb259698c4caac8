"""Causes outside the actions: the token paused (found in the simulation, or only on chain when the
pause lands between simulation and mining), a node that refuses every simulation. The actions wait
in the queue: none fails, no attempt is counted, and they go through once the cause is gone."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from web3 import Web3

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.errors import ChainError
from ledger.settings import Settings

from ..support import Resident
from . import wallets
from .conftest import Rig
from .proxy import Fault, Proxy


def _token(settings: Settings, deployment: Deployment, function: str, *, mined: bool = True) -> None:
    """The deployer (PAUSER_ROLE) pauses or unpauses the token, ahead of anything else in the pool."""
    w3 = Web3(Web3.HTTPProvider(settings.rpc))
    token = deployment.contracts["ParticipationToken"]
    tx_hash = wallets.call(
        w3, settings.deployer(), token.address, "ParticipationToken", function, abi=token.abi, tip_gwei=100
    )
    if mined:
        assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


@pytest.fixture
def paused(settings: Settings, deployment: Deployment) -> Iterator[Callable[[], None]]:
    """Pauses the token now; the returned function unpauses it (and so does the teardown)."""
    _token(settings, deployment, "pause")
    state = {"paused": True}

    def unpause() -> None:
        if state["paused"]:
            _token(settings, deployment, "unpause")
            state["paused"] = False

    yield unpause
    unpause()


def _attempts(rig: Rig) -> set[int]:
    return {n for (n,) in rig.rows("SELECT attempts FROM action")}


def test_while_the_token_is_paused_actions_wait_and_then_go_through(
    make_rig: Callable[..., Rig], paused: Callable[[], None]
) -> None:
    rig = make_rig()
    ids = rig.accept([Resident() for _ in range(4)])
    for _ in range(5):
        rig.relayer.tick()
    assert rig.statuses(ids) == {"queued": 4}
    assert _attempts(rig) == {0}
    assert rig.rows("SELECT count(*) FROM relay_tx") == [(0,)]  # nothing sent, no gas spent
    assert "EnforcedPause" in rig.relayer.alarms["waiting:plogging"]

    paused()  # unpause
    rig.run_until(rig.all_final(ids))
    assert rig.statuses(ids) == {"confirmed": 4}
    assert _attempts(rig) == {0}
    assert "waiting:plogging" not in rig.relayer.alarms


@pytest.mark.usefixtures("manual_mining")
def test_a_pause_mined_before_the_batch_reverts_it_and_charges_nobody(
    make_rig: Callable[..., Rig], rpc: HttpRpc, settings: Settings, deployment: Deployment
) -> None:
    rig = make_rig()
    ids = rig.accept([Resident() for _ in range(4)])
    rig.relayer.tick()  # simulated (the token is not paused yet) and sent: pending
    assert rig.statuses(ids) == {"submitted": 4}
    _token(settings, deployment, "pause", mined=False)  # a higher tip: mined first in the block
    rpc.call("evm_mine")
    try:
        rig.run_until(lambda: bool(rig.rows("SELECT 1 FROM relay_tx WHERE status = 'reverted'")), mine=True)
        for _ in range(3):  # still paused: they wait
            rig.relayer.tick()
            rpc.call("evm_mine")
        assert rig.statuses(ids) == {"queued": 4}
        assert _attempts(rig) == {0}
        [(reason,)] = rig.rows(
            "SELECT DISTINCT reason FROM action_event WHERE to_status = 'queued' AND reason IS NOT NULL"
        )
        assert "EnforcedPause" in reason
    finally:
        _token(settings, deployment, "unpause", mined=False)
        rpc.call("evm_mine")
    rig.run_until(rig.all_final(ids), mine=True)
    assert rig.statuses(ids) == {"confirmed": 4}
    assert _attempts(rig) == {0}
    # An outside cause: no bisection, the four go together again.
    assert rig.rows("SELECT action_count, status FROM relay_tx WHERE kind = 'plogging' ORDER BY id") == [
        (4, "reverted"),
        (4, "mined"),
    ]


def test_a_node_that_refuses_every_simulation_fails_nothing(
    make_rig: Callable[..., Rig], rpc: HttpRpc
) -> None:
    proxy = Proxy(rpc.url)
    try:
        rig = make_rig(proxy.url)
        proxy.add("eth_simulateV1", *[Fault("error", "internal error", code=-32603)] * 12)
        proxy.add("batch", *[Fault("http500")] * 6)
        ids = rig.accept([Resident() for _ in range(6)])
        for _ in range(50):  # until the node has said no as often as it will
            if not proxy.faults["batch"] and not proxy.faults["eth_simulateV1"]:
                break
            with contextlib.suppress(ChainError):  # a batch answered HTTP 500: the tick fails
                rig.relayer.tick()
            assert rig.statuses(ids)["failed"] == 0 and _attempts(rig) == {0}
        else:
            raise AssertionError(f"the faults were not all met: {proxy.faults}")
        rig.run_until(rig.all_final(ids))
        assert rig.statuses(ids) == {"confirmed": 6}
        assert _attempts(rig) == {0}
    finally:
        proxy.close()
