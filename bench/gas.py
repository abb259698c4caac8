"""`esg-ledger bench gas`: gas per signed action, ours against the Ethereum Attestation Service.

Both suites are deployed on one fresh anvil in the same run. Every figure is a real transaction's
`gasUsed` (21,000 base and calldata included) divided by the actions it carries. EAS is deployed
from the bytecode its npm package ships (its sources pin solc 0.8.29 exactly).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from ledger.deploy import Deployment, deploy
from ledger.eip712 import ActionType
from ledger.kinds import DONATION, FEEDBACK, PLOGGING, REDEMPTION, SUPPORT
from ledger.node import AnvilNode
from ledger.settings import PROJECT_ROOT, Settings

BATCH = 100
FEEDBACK_BATCH = 64  # FeedbackBox.MAX_BATCH and CommunityRewards.MAX_BATCH
EAS_CHUNK = 25
EAS_SCHEMA = (
    "address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,"
    "uint64 startedAt,bytes32 evidenceHash"
)
EAS_ATTEST_TYPEHASH = Web3.keccak(
    text="Attest(address attester,bytes32 schema,address recipient,uint64 expirationTime,bool revocable,"
    "bytes32 refUID,bytes data,uint256 value,uint256 nonce,uint64 deadline)"
)
TX_GAS_CAP = 16_777_216


class _Bench:
    def __init__(self, w3: Web3, deployment: Deployment, admin: LocalAccount, relayer: LocalAccount) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.admin = admin
        self.relayer = relayer
        self.chain_id = deployment.chain_id
        self.deadline = int(time.time()) + 86_400
        self.max_tx_gas = 0

    def contract(self, name: str) -> Contract:
        c = self.deployment.contracts[name]
        return self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)

    def send(self, call: Any, sender: LocalAccount) -> dict[str, Any]:
        tx = call.build_transaction(
            {
                "from": sender.address,
                "nonce": self.w3.eth.get_transaction_count(sender.address),
                "gas": 15_000_000,
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        receipt: dict[str, Any] = dict(self.w3.eth.wait_for_transaction_receipt(tx_hash))
        if receipt["status"] != 1:
            raise RuntimeError(f"benchmark transaction reverted: {tx_hash.to_0x_hex()}")
        self.max_tx_gas = max(self.max_tx_gas, receipt["gasUsed"])
        return receipt

    def sign(self, spec: ActionType, resident: LocalAccount, message: dict[str, Any]) -> bytes:
        digest = spec.digest(self.chain_id, self.deployment.address(spec.contract), message)
        return bytes(Account.unsafe_sign_hash(digest, resident.key).signature)

    @staticmethod
    def as_tuple(spec: ActionType, message: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(bytes.fromhex(message[n][2:]) if t == "bytes32" else message[n] for n, t in spec.fields)

    def signed(self, spec: ActionType, resident: LocalAccount, message: dict[str, Any]) -> tuple[Any, ...]:
        return (self.as_tuple(spec, message), self.sign(spec, resident, message))

    def plogging(self, residents: list[LocalAccount], nonce: int) -> float:
        now = int(time.time())
        entries = []
        for r in residents:
            message = {
                "resident": r.address,
                "distanceMeters": 3200,
                "durationSeconds": 1800,
                "trashGrams": 850,
                "areaCode": 41117,
                # a resident's sessions are chronological: round `nonce` starts after the last ended
                "startedAt": now - 6 * 86_400 + nonce * 1801,
                "evidenceHash": "0x" + os.urandom(32).hex(),
                "nonce": nonce,
                "deadline": self.deadline,
            }
            entries.append(self.signed(PLOGGING, r, message))
        receipt = self.send(self.contract("PloggingRegistry").functions.recordBatch(entries), self.relayer)
        failed = (
            self.contract("PloggingRegistry").events.ActionFailed().process_receipt(receipt, errors=DISCARD)
        )
        if failed:
            raise RuntimeError(f"{len(failed)} plogging actions failed in the benchmark")
        return float(receipt["gasUsed"]) / len(entries)

    def feedback(self, residents: list[LocalAccount]) -> float:
        entries = []
        for r in residents:
            message = {
                "resident": r.address,
                "category": 1,
                "areaCode": 41117,
                "contentHash": "0x" + os.urandom(32).hex(),
                "nonce": 0,
                "deadline": self.deadline,
            }
            entries.append(self.signed(FEEDBACK, r, message))
        receipt = self.send(self.contract("FeedbackBox").functions.submitBatch(entries), self.relayer)
        return float(receipt["gasUsed"]) / len(entries)

    def support(self, residents: list[LocalAccount]) -> float:
        """Each resident (the author of item i + 1) agrees with the next resident's item."""
        entries = []
        for i, r in enumerate(residents):
            item = (i + 1) % len(residents) + 1
            message = {"resident": r.address, "itemId": item, "nonce": 1, "deadline": self.deadline}
            entries.append(self.signed(SUPPORT, r, message))
        receipt = self.send(self.contract("FeedbackBox").functions.supportBatch(entries), self.relayer)
        return float(receipt["gasUsed"]) / len(entries)

    def redemption(self, residents: list[LocalAccount], partner: str) -> float:
        entries = []
        for r in residents:
            message = {
                "resident": r.address,
                "partner": partner,
                "amount": 10,
                "offerHash": "0x" + os.urandom(32).hex(),
                "nonce": 0,
                "deadline": self.deadline,
            }
            entries.append(self.signed(REDEMPTION, r, message))
        receipt = self.send(self.contract("CommunityRewards").functions.redeemBatch(entries), self.relayer)
        return float(receipt["gasUsed"]) / len(entries)

    def donation(self, residents: list[LocalAccount], cause_id: int) -> float:
        entries = [
            self.signed(
                DONATION,
                r,
                {
                    "resident": r.address,
                    "causeId": cause_id,
                    "amount": 5,
                    "nonce": 1,
                    "deadline": self.deadline,
                },
            )
            for r in residents
        ]
        receipt = self.send(self.contract("CommunityRewards").functions.donateBatch(entries), self.relayer)
        return float(receipt["gasUsed"]) / len(entries)


def _eas_artifact(name: str) -> dict[str, Any]:
    path = (
        PROJECT_ROOT
        / "node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts"
        / f"{name}.sol/{name}.json"
    )
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def _eas(bench: _Bench, residents: list[LocalAccount]) -> float:
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


def run_gas_bench(port: int = 0) -> dict[str, Any]:
    import socket

    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    with (
        tempfile.TemporaryDirectory() as tmp,
        AnvilNode(port=port, block_time=0, extra_args=("--gas-limit", "30000000")) as node,
    ):
        settings = Settings(env="test", rpc_url=node.url, data_dir=Path(tmp))
        deployment = deploy(settings)
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        admin, relayer = settings.deployer(), settings.relayers()[0]
        bench = _Bench(w3, deployment, admin, relayer)
        residents = [Account.from_key(Web3.keccak(text=f"bench resident {i}")) for i in range(BATCH)]
        new_residents = bench.plogging(residents, nonce=0)  # first-time residents: fresh slots and balances
        holders = bench.plogging(residents, nonce=1)  # the same residents, now holding points
        feedback = bench.feedback(residents[:FEEDBACK_BATCH])
        support = bench.support(residents[:FEEDBACK_BATCH])
        partner = Account.from_key(Web3.keccak(text="bench partner")).address
        rewards = bench.contract("CommunityRewards")
        bench.send(rewards.functions.setPartner(partner, False, int(time.time()) + 86_400, bytes(32)), admin)
        bench.send(rewards.functions.setCause(1, partner, True, bytes(32)), admin)
        redemption = bench.redemption(residents[:FEEDBACK_BATCH], partner)
        donation = bench.donation(residents[:FEEDBACK_BATCH], 1)
        eas = _eas(bench, [Account.from_key(Web3.keccak(text=f"eas resident {i}")) for i in range(BATCH)])
    return {
        "method": (
            "one fresh anvil (automine, 30M block gas); our five contracts and EAS 1.4 (SchemaRegistry + EAS "
            "from the npm package's shipped bytecode) deployed side by side; each figure is a real "
            "transaction's gasUsed (21,000 base and calldata included) divided by its actions. Plogging: a "
            "recordBatch of 100 sessions from 100 distinct residents, first as first-time residents, then "
            "the "
            "same residents again once they hold points (signature check, record, reward mint). Feedback, "
            "support, redemption, donation: batches of 64 (their MAX_BATCH), by residents who already hold "
            "points; each supporter agrees with another resident's item. EAS: multiAttestByDelegation of "
            "100 attestations with a schema of the plogging fields, each signed by its own resident, sent as "
            "four transactions of 25 because 100 (~30M gas) exceed the EIP-7825 per-transaction cap."
        ),
        "plogging_gas_per_action": round(holders),
        "plogging_gas_per_action_new_residents": round(new_residents),
        "feedback_gas_per_action": round(feedback),
        "support_gas_per_action": round(support),
        "redemption_gas_per_action": round(redemption),
        "donation_gas_per_action": round(donation),
        "eas_gas_per_attestation": round(eas),
        "ratio_plogging_vs_eas": round(holders / eas, 4),
        "max_tx_gas": bench.max_tx_gas,
        "tx_gas_cap": TX_GAS_CAP,
        "batch": BATCH,
    }
