"""`esg-ledger bench gas`: gas per signed action, ours against the Ethereum Attestation Service.

Both suites are deployed on one fresh anvil in the same run. Every figure is a real transaction's
`gasUsed` (21,000 base and calldata included) divided by the actions it carries. EAS is deployed
from the bytecode its npm package ships (its sources pin solc 0.8.29 exactly). Batches are encoded
with each kind's own `BatchKind` (the relayer's encoders) and sent to the kind's batch function, or
as groups of one `ActionBatcher.execute` call; see docs/benchmarks.md for the method.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from ledger.chain.events import EVENTS
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment, deploy
from ledger.kinds import KINDS
from ledger.merkle import StandardMerkleTree
from ledger.node import AnvilNode
from ledger.settings import Settings

from ._eas import eas_gas_per_attestation

BATCH = 100
FEEDBACK_BATCH = 64  # FeedbackBox.MAX_BATCH and CommunityRewards.MAX_BATCH
TX_GAS_CAP = 16_777_216
# contracts/Common.sol `ActionKind`, the group tag ActionBatcher routes by
ACTION_KIND = {"plogging": 0, "feedback": 1, "support": 2, "redemption": 3, "donation": 4, "claim": 5}
# One mixed call: 80 actions in the pipeline benchmark's proportions (70% plogging, 15% feedback,
# 10% support, 5% redemption and donation), 1,496 of ActionBatcher's 1,600 budget units.
MIX = {"plogging": 56, "feedback": 12, "support": 8, "redemption": 2, "donation": 2}
# A campaign bonus for a neighbourhood plogging group (~2,900 members): proofs of 11 or 12 hashes
CLAIM_TREE_LEAVES = 2_900
_FAILED = {e.topic0 for e in EVENTS if e.name in ("ActionFailed", "GroupFailed")}

Entry = tuple[dict[str, Any], bytes]  # (signed message, signature)


class _Bench:
    def __init__(self, w3: Web3, deployment: Deployment, admin: LocalAccount, relayer: LocalAccount) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.admin = admin
        self.relayer = relayer
        self.chain_id = deployment.chain_id
        self.deadline = int(time.time()) + 86_400
        self.max_tx_gas = 0
        self.nonces: dict[tuple[str, str], int] = {}  # (contract, resident) → next nonce

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
        if failed := sum(1 for log in receipt["logs"] if log["topics"][0].to_0x_hex() in _FAILED):
            raise RuntimeError(f"{failed} actions or groups failed in {tx_hash.to_0x_hex()}")
        self.max_tx_gas = max(self.max_tx_gas, receipt["gasUsed"])
        return receipt

    def signed(self, kind: str, resident: LocalAccount, **fields: Any) -> Entry:
        """`kind`'s message from `resident` with the next nonce of its contract, and its signature."""
        spec = KINDS[kind].eip712
        key = (spec.contract, resident.address)
        nonce = self.nonces.get(key, 0)
        self.nonces[key] = nonce + 1
        message = {"resident": resident.address, **fields, "nonce": nonce, "deadline": self.deadline}
        digest = spec.digest(self.chain_id, self.deployment.address(spec.contract), message)
        return message, bytes(Account.unsafe_sign_hash(digest, resident.key).signature)

    def items(self, kind: str, entries: list[Entry]) -> list[tuple[Any, ...]]:
        return [KINDS[kind].batch.encode_item(m, s) for m, s in entries]

    def batch(self, kind: str, entries: list[Entry]) -> int:
        """Sends `entries` to the kind's own batch function; returns the transaction's gasUsed."""
        bk = KINDS[kind].batch
        call = getattr(self.contract(bk.contract).functions, bk.function)(self.items(kind, entries))
        return int(self.send(call, self.relayer)["gasUsed"])

    def mixed(self, groups: dict[str, list[Entry]]) -> int:
        """Sends the groups as one ActionBatcher.execute call; returns its gasUsed."""
        encoded = [
            (ACTION_KIND[k], encode([f"{KINDS[k].batch.item_type}[]"], [self.items(k, entries)]))
            for k, entries in groups.items()
        ]
        call = self.contract("ActionBatcher").functions.execute(encoded)
        return int(self.send(call, self.relayer)["gasUsed"])

    # --- each kind's messages, as the metaverse would send them

    def plogging(self, residents: list[LocalAccount]) -> list[Entry]:
        now = int(time.time())
        out = []
        for r in residents:
            nonce = self.nonces.get(("PloggingRegistry", r.address), 0)
            fields = {
                "distanceMeters": 3200,
                "durationSeconds": 1800,
                "trashGrams": 850,
                "areaCode": 41117,
                # a resident's sessions are chronological: session `nonce` starts after the last ended
                "startedAt": now - 6 * 86_400 + nonce * 1801,
                "evidenceHash": "0x" + os.urandom(32).hex(),
            }
            out.append(self.signed("plogging", r, **fields))
        return out

    def feedback(self, residents: list[LocalAccount]) -> list[Entry]:
        return [
            self.signed("feedback", r, category=1, areaCode=41117, contentHash="0x" + os.urandom(32).hex())
            for r in residents
        ]

    def support(self, residents: list[LocalAccount], items: list[int]) -> list[Entry]:
        return [self.signed("support", r, itemId=item) for r, item in zip(residents, items, strict=True)]

    def redemption(self, residents: list[LocalAccount], partner: str) -> list[Entry]:
        return [
            self.signed("redemption", r, partner=partner, amount=10, offerHash="0x" + os.urandom(32).hex())
            for r in residents
        ]

    def donation(self, residents: list[LocalAccount], cause_id: int) -> list[Entry]:
        return [self.signed("donation", r, causeId=cause_id, amount=5) for r in residents]

    def claims(self, residents: list[LocalAccount], claimants: int) -> tuple[list[Entry], int]:
        """An achieved campaign whose bonus tree holds `residents` and other participants (up to
        CLAIM_TREE_LEAVES leaves); the first `claimants` residents' signed claims with their proofs,
        and the proofs' length."""
        rewards = self.contract("CommunityRewards")
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        goal = 100_000
        # a window already over: progress can be reported (it has started) and it can be finalized
        self.send(
            rewards.functions.createCampaign(now - 7200, now - 3600, 0, 41117, goal, keccak(b"bench")),
            self.admin,
        )
        campaign = int(rewards.functions.campaignCount().call())
        self.send(rewards.functions.reportCampaignProgress(campaign, goal), self.admin)
        self.send(rewards.functions.finalizeCampaign(campaign), self.admin)
        others = [
            to_checksum_address(keccak(f"bench participant {i}".encode())[-20:])
            for i in range(CLAIM_TREE_LEAVES - len(residents))
        ]
        leaves = [(a, 100 + i % 50) for i, a in enumerate([r.address for r in residents] + others)]
        tree = StandardMerkleTree.of(leaves, ["address", "uint256"])
        total = sum(amount for _, amount in leaves)
        self.send(
            rewards.functions.setCampaignBonus(campaign, bytes.fromhex(tree.root[2:]), total), self.admin
        )
        entries = []
        for i, r in enumerate(residents[:claimants]):
            message, signature = self.signed("claim", r, campaignId=campaign, amount=leaves[i][1])
            entries.append(({**message, "proof": tree.proof(i)}, signature))
        return entries, max(len(tree.proof(i)) for i in range(claimants))


def _mix(
    bench: _Bench, residents: list[LocalAccount], partner: str, cause_id: int, rpc: HttpRpc
) -> tuple[float, float, dict[str, int]]:
    """The same signed mix twice from the same chain state: as separate per-kind batches, then (the
    chain reverted to before them) as one ActionBatcher call. Gas per action of each, and the mix.

    Every sender has acted on that contract before (residents hold points, have a nonce slot)."""
    m = MIX
    at = 0

    def take(n: int) -> list[LocalAccount]:
        nonlocal at
        at += n
        return residents[at - n : at]

    feedback_residents = take(m["feedback"])
    supporters = take(m["support"])
    # resident i wrote item i + 1 and already agrees with item i + 2: now with item i + 3
    items = [(residents.index(r) + 2) % FEEDBACK_BATCH + 1 for r in supporters]
    groups = {
        "plogging": bench.plogging(residents[: m["plogging"]]),
        "feedback": bench.feedback(feedback_residents),
        "support": bench.support(supporters, items),
        "redemption": bench.redemption(take(m["redemption"]), partner),
        "donation": bench.donation(take(m["donation"]), cause_id),
    }
    actions = sum(len(g) for g in groups.values())
    snapshot = rpc.call("evm_snapshot")
    separate = sum(bench.batch(k, entries) for k, entries in groups.items())
    if rpc.call("evm_revert", [snapshot]) is not True:
        raise RuntimeError("anvil did not revert to the snapshot before the mixed batch")
    mixed = bench.mixed(groups)
    return mixed / actions, separate / actions, {k: len(g) for k, g in groups.items()}


def run_gas_bench(port: int = 0) -> dict[str, Any]:
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
        rpc = HttpRpc(node.url)
        admin, relayer = settings.deployer(), settings.relayers()[0]
        bench = _Bench(w3, deployment, admin, relayer)
        residents = [Account.from_key(Web3.keccak(text=f"bench resident {i}")) for i in range(BATCH)]
        some = residents[:FEEDBACK_BATCH]

        def measure(kind: str, entries: list[Entry]) -> float:
            return bench.batch(kind, entries) / len(entries)

        new_residents = measure("plogging", bench.plogging(residents))  # fresh slots and balances
        holders = measure("plogging", bench.plogging(residents))  # the same residents, holding points
        feedback = measure("feedback", bench.feedback(some))
        # each resident (the author of item i + 1) agrees with the next resident's item
        support = measure("support", bench.support(some, [(i + 1) % len(some) + 1 for i in range(len(some))]))
        partner = Account.from_key(Web3.keccak(text="bench partner")).address
        rewards = bench.contract("CommunityRewards")
        bench.send(rewards.functions.setPartner(partner, False, int(time.time()) + 86_400, bytes(32)), admin)
        bench.send(rewards.functions.setCause(1, partner, True, bytes(32)), admin)
        redemption = measure("redemption", bench.redemption(some, partner))
        donation = measure("donation", bench.donation(some, 1))
        claim_entries, proof_length = bench.claims(residents, FEEDBACK_BATCH)
        claim = measure("claim", claim_entries)
        mixed, separate, mix = _mix(bench, residents, partner, 1, rpc)
        eas = eas_gas_per_attestation(
            bench, [Account.from_key(Web3.keccak(text=f"eas resident {i}")) for i in range(BATCH)]
        )
        rpc.close()
    return {
        "method": (
            "one fresh anvil (automine, 30M block gas); our five contracts and EAS 1.4 (SchemaRegistry + EAS "
            "from the npm package's shipped bytecode) deployed side by side; each figure is a real "
            "transaction's gasUsed (21,000 base and calldata included) divided by its actions. Plogging: a "
            "recordBatch of 100 sessions from 100 distinct residents, first as first-time residents, then "
            "the same residents again once they hold points (signature check, record, reward mint). "
            "Feedback, support, redemption, donation, claim: batches of 64 (their MAX_BATCH), by residents "
            "who already hold points; each supporter agrees with another resident's item; claims of an "
            f"achieved campaign's bonus with proofs from a {CLAIM_TREE_LEAVES}-leaf OpenZeppelin standard "
            "tree. Mixed: one ActionBatcher.execute of five groups in the pipeline's proportions "
            f"({', '.join(f'{n} {k}' for k, n in MIX.items())}) from residents who acted on each contract "
            "before; mixed_separate: the same signed actions from the same chain state (anvil snapshot and "
            "revert) as five per-kind batch transactions. EAS: multiAttestByDelegation of 100 "
            "attestations with a schema of the plogging fields, each signed by its own resident, sent as "
            "four transactions of 25 because 100 (~30M gas) exceed the EIP-7825 per-transaction cap."
        ),
        "plogging_gas_per_action": round(holders),
        "plogging_gas_per_action_new_residents": round(new_residents),
        "feedback_gas_per_action": round(feedback),
        "support_gas_per_action": round(support),
        "redemption_gas_per_action": round(redemption),
        "donation_gas_per_action": round(donation),
        "claim_gas_per_action": round(claim),
        "claim_proof_hashes": proof_length,
        "claim_tree_leaves": CLAIM_TREE_LEAVES,
        "mixed_gas_per_action": round(mixed),
        "mixed_separate_gas_per_action": round(separate),
        "ratio_mixed_vs_separate": round(mixed / separate, 4),
        "mixed_actions": mix,
        "eas_gas_per_attestation": round(eas),
        "ratio_plogging_vs_eas": round(holders / eas, 4),
        "max_tx_gas": bench.max_tx_gas,
        "tx_gas_cap": TX_GAS_CAP,
        "batch": BATCH,
    }
