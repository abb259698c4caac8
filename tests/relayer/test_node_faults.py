"""The relayer behind a fault-injecting proxy: errors, timeouts, "already known", "nonce too low",
"replacement underpriced", HTTP 500s; rejected transactions, gaps, nonces taken by someone else,
and blocks that leave the chain. Whatever happens, every action is recorded exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.rpc import HttpRpc

from ..support import Resident
from .conftest import Rig
from .proxy import Fault, Proxy


@pytest.fixture
def proxy(rpc: HttpRpc) -> Iterator[Proxy]:
    p = Proxy(rpc.url, timeout_seconds=1.5)
    yield p
    p.close()


def _assert_exactly_once(rig: Rig, ids: list[str]) -> None:
    assert rig.statuses(ids) == {"confirmed": len(ids)}
    records = rig.chain_records()
    assert [records[i] for i in ids] == [1] * len(ids)
    mined = sorted(n for (n,) in rig.rows("SELECT nonce FROM relay_tx WHERE status IN ('mined', 'expired')"))
    assert mined == list(range(mined[0], rig.chain_nonce()))  # no nonce used twice, none skipped


def test_errors_timeouts_and_lies_lose_and_double_nothing(make_rig: Callable[..., Rig], proxy: Proxy) -> None:
    rig = make_rig(proxy.url, batch_max_size=5)
    proxy.add(
        "eth_sendRawTransaction",
        Fault("timeout"),  # the node took it; the relayer never heard
        Fault("forward-then-error", "already known"),
        Fault("http500"),
        Fault("error", "nonce too low"),  # a lie: the nonce is free, the relayer must not give up on it
        Fault("error", "replacement transaction underpriced"),
        Fault("error", "connection reset by peer"),
        Fault("timeout"),
    )
    proxy.add("batch", Fault("http500"), Fault("http500"))
    proxy.add("eth_simulateV1", Fault("error", "internal error"))
    residents = [Resident() for _ in range(10)]
    ids: list[str] = []
    for _ in range(3):
        ids += rig.accept(residents)
        rig.run_until(lambda: True, ticks=2)
    rig.run_until(rig.all_final(ids), ticks=200)
    _assert_exactly_once(rig, ids)
    assert proxy.calls["eth_sendRawTransaction"] >= 7  # every fault was met


@pytest.mark.parametrize("simulate", [True, False], ids=["eth_simulateV1", "eth_call+check"])
def test_preflight_fails_bad_actions_before_any_gas(
    make_rig: Callable[..., Rig], proxy: Proxy, simulate: bool
) -> None:
    if not simulate:
        proxy.blocked.add("eth_simulateV1")
    rig = make_rig(proxy.url)
    good = rig.accept([Resident() for _ in range(3)])
    [too_fast] = rig.accept([Resident()], distanceMeters=20_000, durationSeconds=1800)
    rig.run_until(rig.all_final([*good, too_fast]), ticks=10)

    [(error,)] = rig.rows("SELECT error FROM action WHERE id = :i", i=too_fast)
    assert error.startswith("PloggingRegistryTooFast(distanceMeters=20000, durationSeconds=1800")
    assert rig.rows("SELECT action_count FROM relay_tx") == [(3,)]  # it never went on-chain
    assert rig.chain_records()[too_fast] == 0
    _assert_exactly_once(rig, good)


def test_a_rejected_last_transaction_gives_its_nonce_back(make_rig: Callable[..., Rig], proxy: Proxy) -> None:
    rig = make_rig(proxy.url)
    start = rig.chain_nonce("pending")
    proxy.add("eth_sendRawTransaction", *[Fault("error", "intrinsic gas too low")] * 5)
    ids = rig.accept([Resident() for _ in range(2)])
    rig.run_until(rig.all_final(ids), ticks=20)
    assert rig.rows("SELECT nonce, status FROM relay_tx ORDER BY id") == [
        (start, "dropped"),
        (start, "mined"),
    ]
    assert rig.rows("SELECT count(*) FROM relay_tx WHERE kind = 'noop'") == [(0,)]
    _assert_exactly_once(rig, ids)


@pytest.mark.usefixtures("manual_mining")
def test_a_gap_below_transactions_in_flight_is_filled_with_a_noop(
    make_rig: Callable[..., Rig], proxy: Proxy
) -> None:
    rig = make_rig(proxy.url)
    start = rig.chain_nonce("pending")
    proxy.add("eth_sendRawTransaction", Fault("error", "intrinsic gas too low"))
    first = rig.accept([Resident() for _ in range(2)])
    rig.relayer.tick()
    [(raw,)] = rig.rows("SELECT raw FROM relay_tx")
    proxy.add("eth_sendRawTransaction", *[Fault("error", "intrinsic gas too low", match=raw[:200])] * 10)
    second = rig.accept([Resident() for _ in range(2)])
    rig.run_until(lambda: bool(rig.rows("SELECT 1 FROM relay_tx WHERE kind = 'noop'")), ticks=10)

    rig.run_until(rig.all_final(first + second), mine=True, ticks=20)
    assert rig.rows("SELECT nonce, kind, status FROM relay_tx WHERE nonce = :n ORDER BY id", n=start) == [
        (start, "plogging", "dropped"),
        (start, "noop", "mined"),
    ]
    _assert_exactly_once(rig, first + second)


@pytest.mark.usefixtures("manual_mining")
def test_a_nonce_taken_by_another_sender_requeues_its_actions(
    make_rig: Callable[..., Rig], proxy: Proxy, rpc: HttpRpc
) -> None:
    rig = make_rig(proxy.url)
    nonce = rig.chain_nonce("pending")
    proxy.add("eth_sendRawTransaction", Fault("error", "connection reset by peer"))
    ids = rig.accept([Resident()])
    rig.relayer.tick()  # signed and stored, not broadcast
    key: LocalAccount = rig.key
    other = key.sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": nonce,
            "to": key.address,
            "value": 0,
            "gas": 21_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    rpc.call("eth_sendRawTransaction", [other.raw_transaction.to_0x_hex()])
    rpc.call("evm_mine")

    rig.run_until(rig.all_final(ids), mine=True, ticks=10)
    assert rig.rows("SELECT nonce, status FROM relay_tx ORDER BY id") == [
        (nonce, "dropped"),
        (nonce + 1, "mined"),
    ]
    assert rig.statuses(ids) == {"confirmed": 1} and rig.chain_records()[ids[0]] == 1


def test_a_block_that_leaves_the_chain_sends_the_same_bytes_again(
    make_rig: Callable[..., Rig], rpc: HttpRpc
) -> None:
    rig = make_rig()
    snapshot = rpc.call("evm_snapshot")
    ids = rig.accept([Resident() for _ in range(3)])
    rig.run_until(rig.all_final(ids), ticks=5)
    [(tx_hash, block)] = rig.rows("SELECT tx_hash, block_number FROM relay_tx")

    assert rpc.call("evm_revert", [snapshot])  # the block that held it is gone
    rpc.call("anvil_mine", ["0x3"])
    assert rpc.call("eth_getTransactionReceipt", [tx_hash]) is None
    rig.run_until(
        lambda: rig.rows("SELECT status FROM relay_tx") == [("mined",)] and rig.all_final(ids)(), ticks=5
    )

    assert rig.rows("SELECT tx_hash FROM relay_tx") == [(tx_hash,)]  # the same signed bytes, mined again
    assert rpc.call("eth_getTransactionReceipt", [tx_hash])["blockNumber"] != hex(block)
    back = rig.rows(
        "SELECT count(*) FROM action_event WHERE from_status = 'confirmed' AND to_status = 'submitted'"
    )
    assert back == [(3,)]
    _assert_exactly_once(rig, ids)
