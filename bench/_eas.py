"""The peer of `esg-ledger bench gas`: the Ethereum Attestation Service 1.4, deployed from the bytecode
its npm package ships (its sources pin solc 0.8.29 exactly), attesting the plogging fields by
delegation, one attestation per resident, each signed by that resident."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from .gas import _Bench

EAS_CHUNK = 25
EAS_SCHEMA = (
    "address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,"
    "uint64 startedAt,bytes32 evidenceHash"
)
EAS_ATTEST_TYPEHASH = Web3.keccak(
    text="Attest(address attester,bytes32 schema,address recipient,uint64 expirationTime,bool revocable,"
    "bytes32 refUID,bytes data,uint256 value,uint256 nonce,uint64 deadline)"
)


def _eas_artifact(name: str) -> dict[str, Any]:
    path = (
        PROJECT_ROOT
        / "node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts"
        / f"{name}.sol/{name}.json"
    )
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def eas_gas_per_attestation(bench: _Bench, residents: list[LocalAccount]) -> float:
    """EAS multiAttestByDelegation of one attestation per resident, each signed by that resident."""
    w3, admin = bench.w3, bench.admin
    contracts: dict[str, Contract] = {}
    for name, args in (("SchemaRegistry", ()), ("EAS", None)):
        artifact = _eas_artifact(name)
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = bench.send(
            factory.constructor(*(args if args is not None else (contracts["SchemaRegistry"].address,))),
            admin,
        )
        contracts[name] = w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    registry, eas = contracts["SchemaRegistry"], contracts["EAS"]
    zero = "0x0000000000000000000000000000000000000000"
    bench.send(registry.functions.register(EAS_SCHEMA, zero, True), admin)
    schema = Web3.keccak(EAS_SCHEMA.encode() + bytes(20) + b"\x01")  # SchemaRegistry: encodePacked uid
    name, version = "EAS", eas.functions.version().call()
    domain = Web3.keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                Web3.keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                Web3.keccak(text=name),
                Web3.keccak(text=version),
                bench.chain_id,
                eas.address,
            ],
        )
    )
    now = int(time.time())
    requests = []
    for r in residents:
        data = encode(
            ["address", "uint32", "uint32", "uint32", "uint32", "uint64", "bytes32"],
            [r.address, 3200, 1800, 850, 41117, now - 3600, os.urandom(32)],
        )
        nonce = eas.functions.getNonce(r.address).call()
        struct = Web3.keccak(
            encode(
                [
                    "bytes32",
                    "address",
                    "bytes32",
                    "address",
                    "uint64",
                    "bool",
                    "bytes32",
                    "bytes32",
                    "uint256",
                    "uint256",
                    "uint64",
                ],
                [
                    EAS_ATTEST_TYPEHASH,
                    r.address,
                    schema,
                    r.address,
                    0,
                    True,
                    bytes(32),
                    Web3.keccak(data),
                    0,
                    nonce,
                    bench.deadline,
                ],
            )
        )
        signed = Account.unsafe_sign_hash(Web3.keccak(b"\x19\x01" + domain + struct), r.key)
        requests.append(
            (
                schema,
                [(r.address, 0, True, bytes(32), data, 0)],
                [(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))],
                r.address,
                bench.deadline,
            )
        )
    # 100 delegated attestations (~30M gas) do not fit one transaction under the EIP-7825 cap:
    # send them as multiAttestByDelegation calls of 25, as any deployment would have to.
    used = 0
    for start in range(0, len(requests), EAS_CHUNK):
        used += bench.send(eas.functions.multiAttestByDelegation(requests[start : start + EAS_CHUNK]), admin)[
            "gasUsed"
        ]
    return used / len(residents)
