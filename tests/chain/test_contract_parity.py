"""Python's EIP-712 view of the contracts equals the contracts' own: type strings, typehashes,
domain separators and digests, for every action kind."""

from __future__ import annotations

import os
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from ledger.deploy import Deployment
from ledger.eip712 import ActionType
from ledger.kinds import ACTION_TYPES
from ledger.node import AnvilNode

DIGEST_FUNCTION = {
    "plogging": "digest",
    "feedback": "feedbackDigest",
    "support": "supportDigest",
    "redemption": "redemptionDigest",
    "donation": "donationDigest",
    "claim": "claimDigest",
}


def _contract(anvil: AnvilNode, deployment: Deployment, name: str) -> Any:
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    return w3.eth.contract(address=deployment.address(name), abi=deployment.contracts[name].abi)


def _sample(spec: ActionType) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i, (name, kind) in enumerate(spec.fields):
        if kind == "address":
            values[name] = Account.create().address
        elif kind == "bytes32":
            values[name] = "0x" + os.urandom(32).hex()
        else:
            values[name] = 1_790_000_000 + i if name in ("deadline", "startedAt") else 7 * i + 3
    return values


def _as_tuple(spec: ActionType, message: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(bytes.fromhex(message[n][2:]) if t == "bytes32" else message[n] for n, t in spec.fields)


@pytest.mark.parametrize("kind", sorted(ACTION_TYPES))
def test_type_typehash_domain_and_digest_match_on_chain(
    anvil: AnvilNode, deployment: Deployment, kind: str
) -> None:
    spec = ACTION_TYPES[kind]
    contract = _contract(anvil, deployment, spec.contract)
    address = deployment.address(spec.contract)
    prefix = spec.primary_type_constant
    assert getattr(contract.functions, f"{prefix}_TYPE")().call() == spec.type_string
    assert getattr(contract.functions, f"{prefix}_TYPEHASH")().call() == spec.typehash
    assert contract.functions.DOMAIN_SEPARATOR().call() == spec.domain_separator(deployment.chain_id, address)
    message = _sample(spec)
    on_chain = getattr(contract.functions, DIGEST_FUNCTION[kind])(_as_tuple(spec, message)).call()
    assert on_chain == spec.digest(deployment.chain_id, address, message)


def test_every_contract_type_constant_is_known_to_python(anvil: AnvilNode, deployment: Deployment) -> None:
    known = {(s.contract, s.primary_type_constant) for s in ACTION_TYPES.values()}
    for name, deployed in deployment.contracts.items():
        constants = {
            i["name"][: -len("_TYPEHASH")] for i in deployed.abi if i.get("name", "").endswith("_TYPEHASH")
        }
        assert {(name, c) for c in constants} <= known, f"{name} signs a type Python does not know"
