"""Python's EIP-712 view of the contracts equals the contracts' own (typehash, domain, digest)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from web3 import Web3

from ledger.deploy import Deployment
from ledger.eip712 import ACTION_TYPES
from ledger.node import AnvilNode


def _contract(anvil: AnvilNode, deployment: Deployment, name: str) -> Any:
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    return w3.eth.contract(address=deployment.address(name), abi=deployment.contracts[name].abi)


def test_every_typehash_and_type_string_matches_on_chain(anvil: AnvilNode, deployment: Deployment) -> None:
    for spec in ACTION_TYPES.values():
        contract = _contract(anvil, deployment, spec.contract)
        prefix = spec.primary_type_constant
        assert getattr(contract.functions, f"{prefix}_TYPE")().call() == spec.type_string
        assert getattr(contract.functions, f"{prefix}_TYPEHASH")().call() == spec.typehash


def test_domain_separator_and_digest_match_on_chain(anvil: AnvilNode, deployment: Deployment) -> None:
    registry = _contract(anvil, deployment, "PloggingRegistry")
    spec = ACTION_TYPES["plogging"]
    address = deployment.address("PloggingRegistry")
    assert registry.functions.DOMAIN_SEPARATOR().call() == spec.domain_separator(deployment.chain_id, address)
    message = {
        "resident": Account.create().address,
        "distanceMeters": 4321,
        "durationSeconds": 2400,
        "trashGrams": 777,
        "areaCode": 11680,
        "startedAt": 1_790_000_000,
        "evidenceHash": "0x" + "5a" * 32,
        "nonce": 42,
        "deadline": 1_790_086_400,
    }
    on_chain = registry.functions.digest(
        tuple(bytes.fromhex(v[2:]) if k == "evidenceHash" else v for k, v in message.items())
    ).call()
    assert on_chain == spec.digest(deployment.chain_id, address, message)
