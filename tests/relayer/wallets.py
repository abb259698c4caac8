"""Smart-account residents for relayer tests: the ERC-1271 mocks in tests/contracts/mocks/,
compiled with the project's solc settings and deployed on the test chain, and transactions sent
from test accounts (the deployer, a wallet's owner)."""

from __future__ import annotations

from functools import cache
from typing import Any

import solcx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.compile import SOLC_SETTINGS
from ledger.settings import PROJECT_ROOT
from ledger.toolchain import solc_shim

MOCKS = ("FlagGriefingWallet", "GasPriceGriefingWallet")


@cache
def artifacts() -> dict[str, dict[str, Any]]:
    """{name: {"abi", "bytecode"}} of the griefing wallet mocks."""
    paths = [PROJECT_ROOT / "tests" / "contracts" / "mocks" / f"{name}.sol" for name in MOCKS]
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {str(p.relative_to(PROJECT_ROOT)): {"content": p.read_text()} for p in paths},
            "settings": SOLC_SETTINGS,
        },
        base_path=str(PROJECT_ROOT),
        allow_paths=[str(PROJECT_ROOT)],
        solc_binary=str(solc_shim(PROJECT_ROOT)),
    )
    return {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for path, contracts in output["contracts"].items()
        for name, c in contracts.items()
        if name in MOCKS
    }


def send(w3: Web3, account: LocalAccount, tx: dict[str, Any], *, tip_gwei: int = 1) -> str:
    """Signs and sends `tx` from `account` (a high `tip_gwei` puts it first in the next block)."""
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    tx = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": w3.eth.chain_id,
        "gas": 3_000_000,
        "maxPriorityFeePerGas": tip_gwei * 10**9,
        "maxFeePerGas": 4 * base + tip_gwei * 10**9,
        **tx,
    }
    return str(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction).to_0x_hex())


def deploy(w3: Web3, deployer: LocalAccount, name: str, *args: Any) -> str:
    """Deploys a mock (automine on) and returns its address."""
    contract = w3.eth.contract(abi=artifacts()[name]["abi"], bytecode=artifacts()[name]["bytecode"])
    tx = contract.constructor(*args).build_transaction({"from": deployer.address})
    receipt = w3.eth.wait_for_transaction_receipt(send(w3, deployer, {"data": tx["data"]}))
    assert receipt["status"] == 1
    return str(receipt["contractAddress"])


def call(
    w3: Web3, account: LocalAccount, address: str, name: str, function: str, *args: Any, **kw: Any
) -> str:
    """Sends `function(*args)` of the mock or deployed contract at `address`; returns the tx hash."""
    abi = artifacts()[name]["abi"] if name in MOCKS else kw.pop("abi")
    tx = getattr(w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi).functions, function)(
        *args
    ).build_transaction({"from": account.address, "gas": 200_000})
    return send(w3, account, {"to": tx["to"], "data": tx["data"], "gas": 200_000}, **kw)
