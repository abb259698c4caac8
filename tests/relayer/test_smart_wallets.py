"""Smart-account residents (ERC-1271) that grief: a wallet that refuses, and burns its whole gas
allowance, above a gas price (caught in the simulation, which runs at the real fee fields), and one
whose owner flips it between the simulation and the block (its action goes alone, with the gas it
may burn as a stipend). Neither costs another resident their action; and a transaction that runs
out of gas on chain because of one entry is bisected, with no attempt counted against anyone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.relayer.isolation import ERC1271_GAS_LIMIT, ERC1271_STIPEND
from ledger.settings import Settings

from ..support import Resident
from . import outbox_rows, wallets
from .conftest import Rig

GWEI = 10**9
HONEST = 12


@pytest.fixture
def w3(settings: Settings) -> Web3:
    return Web3(Web3.HTTPProvider(settings.rpc))


@pytest.fixture
def owner(rpc: HttpRpc) -> LocalAccount:
    account: LocalAccount = Account.create()
    rpc.call("anvil_setBalance", [account.address, hex(10**18)])
    return account


@pytest.fixture
def automine_off(rpc: HttpRpc) -> Iterator[Callable[[], None]]:
    def off() -> None:
        rpc.call("evm_setAutomine", [False])

    yield off
    rpc.call("evm_setAutomine", [True])


def _wallet_action(rig: Rig, deployment: Deployment, wallet: str, owner: LocalAccount, nonce: int = 0) -> str:
    message = outbox_rows.session(wallet, nonce)
    signature = outbox_rows.signed_by(owner, deployment, message)  # the owner's, not the wallet's: ERC-1271
    return outbox_rows.insert(
        rig.engine, deployment, message, signature, outbox_rows.digest(deployment, message)
    )


def _status(rig: Rig, action_id: str) -> tuple[str, str | None, int]:
    [(status, error, attempts)] = rig.rows(
        "SELECT status, error, attempts FROM action WHERE id = :i", i=action_id
    )
    return status, error, attempts


def _assert_honest_untouched(rig: Rig, honest: list[str]) -> None:
    by_id = {i: (st, n) for i, st, n in rig.rows("SELECT id, status, attempts FROM action")}
    assert [by_id[i] for i in honest] == [("confirmed", 0)] * len(honest)
    records = rig.chain_records()
    assert [records[i] for i in honest] == [1] * len(honest)


def test_the_stipend_is_the_contracts_erc1271_allowance(rpc: HttpRpc, deployment: Deployment) -> None:
    selector = Web3.keccak(text="ERC1271_GAS_LIMIT()")[:4].to_0x_hex()
    on_chain = int(
        rpc.call("eth_call", [{"to": deployment.address("PloggingRegistry"), "data": selector}]), 16
    )
    assert on_chain == ERC1271_GAS_LIMIT
    assert ERC1271_STIPEND > ERC1271_GAS_LIMIT * 64 // 63


def test_a_wallet_that_refuses_at_the_real_gas_price_is_caught_in_the_simulation(
    make_rig: Callable[..., Rig],
    rpc: HttpRpc,
    w3: Web3,
    settings: Settings,
    deployment: Deployment,
    owner: LocalAccount,
) -> None:
    rig = make_rig()
    tip = int(settings.priority_fee_gwei * GWEI)
    # Valid while tx.gasprice <= the tip: a simulation priced at the tip alone (what nodes do without
    # the fee fields and validation) sees a valid, cheap signature; the real transaction pays more.
    wallet = wallets.deploy(w3, settings.deployer(), "GasPriceGriefingWallet", owner.address, tip, True)
    rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(2 * GWEI)])
    rpc.call("evm_mine")  # the next base fee is well above zero
    honest = rig.accept([Resident() for _ in range(HONEST)])
    grief = _wallet_action(rig, deployment, wallet, owner)

    rig.run_until(rig.all_final([*honest, grief]))

    _assert_honest_untouched(rig, honest)
    status, error, attempts = _status(rig, grief)
    assert (status, attempts) == ("failed", 0)
    assert error is not None and error.startswith("SignedActionsInvalidSignature(")
    submitted = rig.rows(
        "SELECT count(*) FROM action_event WHERE action_id = :i AND to_status = 'submitted'", i=grief
    )
    assert submitted == [(0,)]  # refused in the simulation: it never cost gas
    assert rig.rows("SELECT action_count, status FROM relay_tx") == [(HONEST, "mined")]


def test_a_wallet_flipped_between_simulation_and_block_fails_alone(
    make_rig: Callable[..., Rig],
    rpc: HttpRpc,
    w3: Web3,
    settings: Settings,
    deployment: Deployment,
    owner: LocalAccount,
    automine_off: Callable[[], None],
) -> None:
    rig = make_rig()
    wallet = wallets.deploy(w3, settings.deployer(), "FlagGriefingWallet", owner.address, True)
    honest = rig.accept([Resident() for _ in range(HONEST)])
    grief = _wallet_action(rig, deployment, wallet, owner)
    automine_off()
    rig.relayer.tick()  # both simulated fine and sent: the honest batch, and the wallet's alone
    assert rig.statuses() == {"submitted": HONEST + 1}
    wallets.call(w3, owner, wallet, "FlagGriefingWallet", "flip", tip_gwei=100)  # mined first
    rpc.call("evm_mine")

    rig.run_until(rig.all_final([*honest, grief]), mine=True)

    _assert_honest_untouched(rig, honest)
    status, error, attempts = _status(rig, grief)
    assert (status, attempts) == ("failed", 0)
    assert error is not None and error.startswith("SignedActionsInvalidSignature(")
    # It burnt its whole allowance on chain, inside the stipend of its own transaction: nothing reverted.
    rows = rig.rows("SELECT action_count, status, gas_limit FROM relay_tx ORDER BY action_count")
    assert [(n, st) for n, st, _ in rows] == [(1, "mined"), (HONEST, "mined")]
    assert rows[0][2] > ERC1271_STIPEND


def test_a_revert_on_chain_caused_by_one_entry_is_bisected_and_charges_nobody(
    make_rig: Callable[..., Rig],
    rpc: HttpRpc,
    w3: Web3,
    settings: Settings,
    deployment: Deployment,
    owner: LocalAccount,
    automine_off: Callable[[], None],
) -> None:
    rig = make_rig()
    wallet = wallets.deploy(w3, settings.deployer(), "FlagGriefingWallet", owner.address, True)
    # As if the relayer had looked the address up before the wallet was deployed there (a
    # counterfactual account): it takes the wallet for a plain account and batches it with others.
    rig.relayer.isolation.learn_code(wallet, "0x")
    # A returning resident: recording its session is cheap, so failing costs it little less than
    # burning the allowance, and the batch's gas limit (used + 1/32 + 30,000) does not hold it.
    first = _wallet_action(rig, deployment, wallet, owner)
    rig.run_until(rig.all_final([first]))
    honest = rig.accept([Resident() for _ in range(HONEST)])
    grief = _wallet_action(rig, deployment, wallet, owner, nonce=1)
    automine_off()
    rig.relayer.tick()
    batches = rig.rows("SELECT action_count FROM relay_tx ORDER BY id")
    assert batches == [(1,), (HONEST + 1,)]  # one batch with the wallet in it
    wallets.call(w3, owner, wallet, "FlagGriefingWallet", "flip", tip_gwei=100)
    rpc.call("evm_mine")  # the wallet burns its allowance: the batch runs out of gas

    rig.run_until(rig.all_final([*honest, grief]), mine=True)

    _assert_honest_untouched(rig, honest)
    status, error, attempts = _status(rig, grief)
    assert (status, attempts) == ("failed", 0)
    assert error is not None and error.startswith("SignedActionsInvalidSignature(")
    txs = rig.rows("SELECT action_count, status FROM relay_tx WHERE kind = 'plogging' ORDER BY id")[1:]
    assert txs[0] == (HONEST + 1, "reverted") and all(st == "mined" for _, st in txs[1:])
    assert max(n for n, _ in txs[1:]) <= (HONEST + 2) // 2  # bisected: halves at most
