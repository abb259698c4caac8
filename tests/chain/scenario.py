"""Real on-chain activity that makes every contract event at least once (for golden decode tests and
for the indexer's projection tests): residents sign actions, the relayer key sends the batches, the
deployer key (every admin and ESG role on a fresh deployment) does the rest.

Events it cannot make: `RoleAdminChanged` (no contract exposes `_setRoleAdmin`) and
`EIP712DomainChanged` (domains are immutable). Their decoders are tested on encoded logs instead.
"""

from __future__ import annotations

import os
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from web3 import Web3

from ledger.deploy import ROLE, Deployment
from ledger.eip712 import ActionType
from ledger.kinds import CLAIM, DONATION, FEEDBACK, PLOGGING, REDEMPTION, SUPPORT, staff
from ledger.settings import Settings

from ..support import Resident


def _h(text: str) -> bytes:
    return keccak(text.encode())


class Scenario:
    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
        self.deployment = deployment
        self.admin = settings.deployer()
        self.relayer = settings.relayers()[0]
        self.nonces: dict[tuple[str, str], int] = {}
        self.c = {
            name: self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)
            for name, c in deployment.contracts.items()
        }

    # --- plumbing

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def next_start(self, duration: int = 1800) -> int:
        """A session start after every earlier one ended: a resident's sessions are chronological."""
        start = max(getattr(self, "_next_start", 0), self.now() - 6 * 86_400)
        self._next_start = start + duration + 1
        return start

    def send(self, who: LocalAccount, contract: str, function: str, *args: Any) -> Any:
        call = getattr(self.c[contract].functions, function)(*args)
        tx = call.build_transaction(
            {
                "from": who.address,
                "nonce": self.w3.eth.get_transaction_count(who.address, "pending"),
                "gas": 5_000_000,
                "chainId": self.deployment.chain_id,
            }
        )
        signed = who.sign_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        if receipt["status"] != 1:
            raise AssertionError(f"{contract}.{function} reverted")
        return receipt

    def signed(self, kind: ActionType, resident: Resident, **fields: Any) -> tuple[tuple[Any, ...], bytes]:
        contract = self.deployment.address(kind.contract)
        nonce_key = (resident.address, kind.contract)
        nonce = self.nonces.get(nonce_key, 0)
        self.nonces[nonce_key] = nonce + 1
        message = {"resident": resident.address, **fields, "nonce": nonce, "deadline": self.now() + 3600}
        typed = kind.typed_data(self.deployment.chain_id, contract, message)
        signature = bytes.fromhex(resident.sign(typed)[2:])
        values = []
        for name, solidity_type in kind.fields:
            value = message[name]
            values.append(bytes.fromhex(value[2:]) if solidity_type == "bytes32" else value)
        return tuple(values), signature

    def session(self, resident: Resident, **overrides: Any) -> tuple[tuple[Any, ...], bytes]:
        fields = {
            "distanceMeters": 3200,
            "durationSeconds": 1800,
            "trashGrams": 850,
            "areaCode": 41117,
            "startedAt": self.next_start(),
            "evidenceHash": "0x" + os.urandom(32).hex(),
        } | overrides
        return self.signed(PLOGGING, resident, **fields)

    def record(self, *entries: tuple[tuple[Any, ...], bytes]) -> Any:
        return self.send(self.relayer, "PloggingRegistry", "recordBatch", list(entries))

    def digest(self, entry: tuple[tuple[Any, ...], bytes]) -> bytes:
        return bytes(self.c["PloggingRegistry"].functions.digest(entry[0]).call())

    def advance(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    # --- the story

    def run(self) -> None:
        """Every kind of event, in an order the contracts accept."""
        a, b, c = self.a, self.b, self.c_resident = Resident(), Resident(), Resident()
        cause_wallet = Web3.to_checksum_address("0x" + os.urandom(20).hex())
        partner = self.partner = Resident()
        # plogging, auto-accepted: PloggingRecorded, Transfer (mint), PloggingBatchCommitted
        self.record(self.session(a), self.session(b), self.session(c))
        # a session too fast: ActionFailed
        self.record(self.session(a, distanceMeters=40_000, durationSeconds=600))
        # review policy: everything above 100 points waits for the ESG team
        self.send(self.admin, "PloggingRegistry", "setThresholds", (50_000, 20_000, 1))
        pending = [self.session(a), self.session(a), self.session(b)]
        self.record(*pending)
        verified, rejected, other = (self.digest(e) for e in pending)
        self.send(self.admin, "PloggingRegistry", "verify", verified)  # PloggingVerified
        self.send(self.admin, "PloggingRegistry", "reject", rejected, 7)  # PloggingRejected
        self.send(self.admin, "PloggingRegistry", "setThresholds", (50_000, 20_000, 2**64 - 1))
        bounds = (300, 14_400, 50_000, 600, 20_000, 7 * 86_400, 50_000, 10)
        self.send(self.admin, "PloggingRegistry", "setBounds", bounds)  # PloggingBoundsUpdated
        # RewardPolicyUpdated, and through it PloggingRewardUpdated and FeedbackRewardUpdated
        self.send(self.admin, "CommunityRewards", "setRewardPolicy", (10, 5, 50))
        # partners and causes
        self.send(self.admin, "CommunityRewards", "setPartner", partner.address, True, 2**64 - 1, _h("cafe"))
        self.send(self.admin, "CommunityRewards", "setCause", 1, cause_wallet, True, _h("river cleanup"))
        # a redemption of everything b holds, then b's verified-later session is revoked: claw-back debt
        balance = self.c["ParticipationToken"].functions.balanceOf(b.address).call()
        redemption = self.signed(
            REDEMPTION, b, partner=partner.address, amount=balance, offerHash="0x" + _h("coffee").hex()
        )
        self.send(self.relayer, "CommunityRewards", "redeemBatch", [redemption])  # Redeemed, Transfer (burn)
        self.send(self.admin, "PloggingRegistry", "verify", other)
        donation = self.signed(DONATION, a, causeId=1, amount=5)
        self.send(self.relayer, "CommunityRewards", "donateBatch", [donation])  # Donated, Transfer
        spend = self.c["ParticipationToken"].functions.balanceOf(b.address).call()
        self.send(
            self.relayer,
            "CommunityRewards",
            "redeemBatch",
            [
                self.signed(
                    REDEMPTION, b, partner=partner.address, amount=spend, offerHash="0x" + _h("tea").hex()
                )
            ],
        )
        self.send(self.admin, "PloggingRegistry", "revoke", other, 3)  # PloggingRevoked, with debt
        self.record(self.session(b))  # b earns again
        self.send(self.admin, "PloggingRegistry", "settleClawback", b.address)  # PloggingClawbackSettled
        self.send(self.admin, "CommunityRewards", "removePartner", partner.address)  # PartnerRemoved
        self._feedback(a, b, c)
        self._campaign(a)
        self._token_and_roles(a)
        self._enrolment(a, b, c)

    def _enrolment(self, a: Resident, b: Resident, c: Resident) -> None:
        desk = b"desk:suwon".ljust(32, b"\0")  # a party code, as ledger.enrolment.party_code makes it
        self.send(self.admin, "EnrolmentRegistry", "enrol", a.address, desk, _h("consent a"))  # Enrolled
        batch = [(b.address, desk, _h("consent b")), (c.address, desk, _h("consent c"))]
        self.send(self.admin, "EnrolmentRegistry", "enrolBatch", batch)
        self.send(self.admin, "EnrolmentRegistry", "withdraw", c.address, 2)  # ResidentWithdrawn

    def _feedback(self, a: Resident, b: Resident, c: Resident) -> None:
        # threshold 1: the first support obliges an answer (FeedbackAnswerRequired)
        self.send(self.admin, "FeedbackBox", "setSettings", (1, 7 * 86_400, 3, 20))  # FeedbackSettingsUpdated
        self.send(self.admin, "FeedbackBox", "setCategory", 7, True, "parks")  # FeedbackCategorySet
        items = [
            self.signed(FEEDBACK, a, category=1, areaCode=41117, contentHash="0x" + _h("more bins").hex()),
            self.signed(FEEDBACK, b, category=7, areaCode=41117, contentHash="0x" + _h("benches").hex()),
        ]
        self.send(self.relayer, "FeedbackBox", "submitBatch", items)  # FeedbackSubmitted
        supports = [self.signed(SUPPORT, b, itemId=1), self.signed(SUPPORT, c, itemId=1)]
        self.send(self.relayer, "FeedbackBox", "supportBatch", supports)  # FeedbackSupported
        self.send(self.admin, "FeedbackBox", "startReview", 1)  # FeedbackReviewStarted
        self.send(self.admin, "FeedbackBox", "answer", 1, True, _h("bins ordered"))  # FeedbackAnswered, mint
        self.send(self.admin, "FeedbackBox", "close", 1)  # FeedbackClosed
        self.send(self.admin, "FeedbackBox", "moderate", 2, True, 4)  # FeedbackModerated

    def _campaign(self, a: Resident) -> None:
        start = self.now() + 5
        campaign = (start, start + 3600, 0, 41117, 10_000, _h("spring cleanup"))
        self.send(self.admin, "CommunityRewards", "createCampaign", *campaign)  # CampaignCreated
        self.advance(10)
        self.send(self.admin, "CommunityRewards", "reportCampaignProgress", 1, 12_000)  # ProgressReported
        self.advance(3700)
        self.send(self.admin, "CommunityRewards", "finalizeCampaign", 1)  # CampaignFinalized (Achieved)
        amount = 40
        leaf = keccak(keccak(encode(["address", "uint256"], [a.address, amount])))  # a one-leaf tree
        self.send(self.admin, "CommunityRewards", "setCampaignBonus", 1, leaf, 100)  # CampaignBonusSet
        claim = self.signed(CLAIM, a, campaignId=1, amount=amount)
        self.send(self.relayer, "CommunityRewards", "claimBatch", [(claim[0], [], claim[1])])  # BonusClaimed

    def _token_and_roles(self, a: Resident) -> None:
        verifier = Resident()
        self.send(self.admin, "PloggingRegistry", "grantRole", ROLE["VERIFIER_ROLE"], verifier.address)
        self.send(self.admin, "PloggingRegistry", "revokeRole", ROLE["VERIFIER_ROLE"], verifier.address)
        self.w3.provider.make_request("anvil_setBalance", [a.address, hex(10**18)])  # type: ignore[arg-type]
        self.send(a.account, "ParticipationToken", "approve", self.admin.address, 3)  # Approval
        self.send(self.admin, "ParticipationToken", "pause")  # Paused
        # a plogging group through the batcher while the token is paused: the whole group reverts
        entries = [self.session(a)]
        group = (
            0,
            encode(
                ["((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[]"], [entries]
            ),
        )
        self.send(self.relayer, "ActionBatcher", "execute", [group])  # GroupFailed
        self.nonces[a.address, "PloggingRegistry"] -= 1  # the failed group used no nonce
        self.send(self.admin, "ParticipationToken", "unpause")  # Unpaused
        self.record(self.session(a))
        self._relayed_staff(verifier)

    def _relayed_staff(self, outsider: Resident) -> None:
        """Staff act as themselves through the forwarder: ExecutedForwardRequest, success and not."""
        forwarder = self.c[staff.FORWARDER]
        items = []
        for who, contract, function, args in (
            (self.admin, "FeedbackBox", "setCategory", (8, True, "rivers")),  # FeedbackCategorySet, by admin
            (outsider.account, "PloggingRegistry", "verify", (bytes(32),)),  # no role: success false
        ):
            data = getattr(self.c[contract].functions, function)(*args)._encode_transaction_data()
            message = {
                "from": who.address,
                "to": self.deployment.address(contract),
                "value": 0,
                "gas": 200_000,
                "nonce": forwarder.functions.nonces(who.address).call(),
                "deadline": self.now() + 3600,
                "data": data,
            }
            typed = staff.typed_data(self.deployment.chain_id, forwarder.address, message)
            items.append(
                (typed["message"], bytes(Account.sign_typed_data(who.key, full_message=typed).signature))
            )
        tx = {
            "from": self.relayer.address,
            "to": forwarder.address,
            "data": staff.encode_execute_batch(items, self.relayer.address),
            "gas": 1_000_000,
            "gasPrice": self.w3.eth.gas_price,
            "nonce": self.w3.eth.get_transaction_count(self.relayer.address, "pending"),
            "chainId": self.deployment.chain_id,
        }
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(self.relayer.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1
