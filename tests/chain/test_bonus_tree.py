"""Campaign bonus trees end to end on a real anvil: a tree published in SQL (ledger.bonus), its root
set on chain, and residents' signed claims paid with the stored proofs by RewardCampaigns itself.
Also the store's refusals and the `esg-ledger rewards` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak
from sqlalchemy import Engine, text
from typer.testing import CliRunner
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from ledger.bonus import get_tree, leaf_for, leaves, post_root, publish_tree
from ledger.chain.revert import ErrorDecoder
from ledger.db import make_engine, read_scope, session_scope
from ledger.deploy import Deployment
from ledger.errors import (
    BonusTreeConflictError,
    BonusTreeNotFoundError,
    ContractRevertError,
    InvalidAllocationError,
)
from ledger.kinds import CLAIM
from ledger.merkle import StandardMerkleTree
from ledger.settings import Settings
from migrations import migrate

from ..support import Resident

CHAIN = 31337


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(e)
    yield e
    e.dispose()


class Chain:
    """The deployer (CAMPAIGN_ROLE) runs campaigns; the relayer key sends residents' claims."""

    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc, request_kwargs={"timeout": 60}))
        self.deployment = deployment
        self.admin = settings.deployer()
        self.relayer = settings.relayers()[0]
        rewards = deployment.contracts["CommunityRewards"]
        self.rewards: Contract = self.w3.eth.contract(
            address=Web3.to_checksum_address(rewards.address), abi=rewards.abi
        )
        token = deployment.contracts["ParticipationToken"]
        self.token: Contract = self.w3.eth.contract(
            address=Web3.to_checksum_address(token.address), abi=token.abi
        )
        self.decoder = ErrorDecoder([c.abi for c in deployment.contracts.values()])

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def send(self, who: Any, function: str, *args: Any) -> Any:
        tx = getattr(self.rewards.functions, function)(*args).build_transaction(
            {
                "from": who.address,
                "nonce": self.w3.eth.get_transaction_count(who.address, "pending"),
                "gas": 5_000_000,
                "chainId": self.deployment.chain_id,
            }
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(who.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1, f"{function} reverted"
        return receipt

    def campaign(self, *, achieved: bool) -> int:
        """A new campaign; Achieved (progress over the goal, window over, finalized) or still Active."""
        start = self.now() + 5
        self.send(self.admin, "createCampaign", start, start + 3600, 0, 0, 10_000, keccak(b"bonus test"))
        campaign_id = int(self.rewards.functions.campaignCount().call())
        if achieved:
            self.advance(10)
            self.send(self.admin, "reportCampaignProgress", campaign_id, 12_500)
            self.advance(3700)
            self.send(self.admin, "finalizeCampaign", campaign_id)
        return campaign_id

    def signed_claim(
        self, resident: Resident, campaign_id: int, amount: int, proof: list[str], nonce: int = 0
    ) -> Any:
        message = {
            "resident": resident.address,
            "campaignId": campaign_id,
            "amount": amount,
            "nonce": nonce,
            "deadline": self.now() + 3600,
        }
        typed = CLAIM.typed_data(
            self.deployment.chain_id, self.deployment.address("CommunityRewards"), message
        )
        signature = bytes.fromhex(resident.sign(typed)[2:])
        claim = (resident.address, campaign_id, amount, nonce, message["deadline"])
        return (claim, [bytes.fromhex(p[2:]) for p in proof], signature)

    def balance(self, address: str) -> int:
        return int(self.token.functions.balanceOf(address).call())


@pytest.fixture(scope="module")
def chain(settings: Settings, deployment: Deployment) -> Chain:
    return Chain(settings, deployment)


def _publish(engine: Engine, campaign_id: int, allocations: dict[str, int], chain_id: int = CHAIN) -> Any:
    with session_scope(engine) as s:
        return publish_tree(
            session=s, chain_id=chain_id, campaign_id=campaign_id, allocations=allocations, rule="test rule"
        )


def _leaf(engine: Engine, campaign_id: int, resident: str) -> tuple[int, list[str]]:
    with read_scope(engine) as s:
        found = leaf_for(session=s, chain_id=CHAIN, campaign_id=campaign_id, resident=resident)
    assert found is not None
    return found


# --- on chain


def test_claims_with_stored_proofs_are_paid_and_a_wrong_amount_fails_alone(
    chain: Chain, settings: Settings, deployment: Deployment, engine: Engine
) -> None:
    campaign_id = chain.campaign(achieved=True)
    residents = [Resident() for _ in range(6)]
    amounts = {r.address: 100 * (i + 1) + i for i, r in enumerate(residents)}
    # an address in lower case is the same resident, checksummed in the store
    published = _publish(engine, campaign_id, {a.lower(): v for a, v in amounts.items()})
    assert published.root == StandardMerkleTree.of(sorted(amounts.items()), ("address", "uint256")).root

    tree = post_root(
        engine=engine,
        deployment=deployment,
        signer=chain.admin,
        rpc_url=settings.rpc,
        campaign_id=campaign_id,
    )
    assert tree.posted_tx_hash is not None
    receipt = chain.w3.eth.get_transaction_receipt(tree.posted_tx_hash)  # type: ignore[arg-type]
    (bonus_set,) = chain.rewards.events.CampaignBonusSet().process_receipt(receipt, errors=DISCARD)
    assert bonus_set["args"]["campaignId"] == campaign_id
    assert "0x" + bytes(bonus_set["args"]["root"]).hex() == published.root
    assert bonus_set["args"]["total"] == sum(amounts.values())
    on_chain = chain.rewards.functions.campaign(campaign_id).call()
    assert "0x" + bytes(on_chain[8]).hex() == published.root and on_chain[9] == sum(amounts.values())

    # posting again sends nothing: the chain already has this root
    sent_before = chain.w3.eth.get_transaction_count(chain.admin.address)
    again = post_root(
        engine=engine,
        deployment=deployment,
        signer=chain.admin,
        rpc_url=settings.rpc,
        campaign_id=campaign_id,
    )
    assert again.posted_tx_hash == tree.posted_tx_hash
    assert chain.w3.eth.get_transaction_count(chain.admin.address) == sent_before

    # one batch: five right claims around one with a wrong amount (its proof is for the right one)
    cheat = residents[2]
    batch = []
    for r in residents:
        amount, proof = _leaf(engine, campaign_id, r.address)
        assert amount == amounts[r.address]
        batch.append(chain.signed_claim(r, campaign_id, amount + 1 if r is cheat else amount, proof))
    receipt = chain.send(chain.relayer, "claimBatch", batch)

    claimed = chain.rewards.events.BonusClaimed().process_receipt(receipt, errors=DISCARD)
    assert {e["args"]["resident"]: e["args"]["amount"] for e in claimed} == {
        r.address: amounts[r.address] for r in residents if r is not cheat
    }
    assert all(e["args"]["campaignId"] == campaign_id for e in claimed)
    (failed,) = chain.rewards.events.ActionFailed().process_receipt(receipt, errors=DISCARD)
    assert failed["args"]["resident"] == cheat.address
    reason = chain.decoder.decode(bytes(failed["args"]["reason"]))
    assert reason.name == "CommunityRewardsInvalidProof"
    assert reason.args_ == {
        "campaignId": campaign_id,
        "resident": cheat.address.lower(),  # as eth-abi decodes it
        "amount": amounts[cheat.address] + 1,
    }
    for r in residents:
        assert chain.balance(r.address) == (0 if r is cheat else amounts[r.address])
        assert chain.rewards.functions.hasClaimed(campaign_id, r.address).call() is (r is not cheat)

    # the failed entry used no nonce: the resident claims the right amount with the same one
    amount, proof = _leaf(engine, campaign_id, cheat.address)
    chain.send(chain.relayer, "claimBatch", [chain.signed_claim(cheat, campaign_id, amount, proof)])
    assert chain.balance(cheat.address) == amount
    assert chain.rewards.functions.campaign(campaign_id).call()[10] == sum(amounts.values())  # bonusClaimed


def test_a_single_resident_tree_has_an_empty_proof(
    chain: Chain, settings: Settings, deployment: Deployment, engine: Engine
) -> None:
    campaign_id = chain.campaign(achieved=True)
    only = Resident()
    _publish(engine, campaign_id, {only.address: 2**70})  # past 2**63: stored as text on SQLite
    post_root(
        engine=engine,
        deployment=deployment,
        signer=chain.admin,
        rpc_url=settings.rpc,
        campaign_id=campaign_id,
    )
    amount, proof = _leaf(engine, campaign_id, only.address)
    assert (amount, proof) == (2**70, [])
    chain.send(chain.relayer, "claimBatch", [chain.signed_claim(only, campaign_id, amount, proof)])
    assert chain.balance(only.address) == 2**70


def test_posting_before_the_campaign_is_achieved_is_a_decoded_revert(
    chain: Chain, settings: Settings, deployment: Deployment, engine: Engine
) -> None:
    campaign_id = chain.campaign(achieved=False)
    _publish(engine, campaign_id, {Resident().address: 5})
    with pytest.raises(ContractRevertError) as caught:
        post_root(
            engine=engine,
            deployment=deployment,
            signer=chain.admin,
            rpc_url=settings.rpc,
            campaign_id=campaign_id,
        )
    assert caught.value.name == "CommunityRewardsWrongCampaignStatus"
    assert caught.value.args_ == {"campaignId": campaign_id, "status": 1}  # Active
    with read_scope(engine) as s:
        tree = get_tree(session=s, chain_id=CHAIN, campaign_id=campaign_id)
    assert tree is not None and tree.posted_tx_hash is None
    with pytest.raises(BonusTreeNotFoundError):
        post_root(
            engine=engine, deployment=deployment, signer=chain.admin, rpc_url=settings.rpc, campaign_id=999
        )


def test_cli_publishes_posts_and_shows(
    chain: Chain, settings: Settings, deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli.rewards

    monkeypatch.setattr(cli.rewards, "get_settings", lambda: settings)
    campaign_id = chain.campaign(achieved=True)
    a, b = Resident(), Resident()
    path = tmp_path / "bonus.csv"
    path.write_text(f"address,amount\n{a.address.lower()},30\n{b.address}, 12\n")
    runner = CliRunner()
    result = runner.invoke(
        cli.rewards.rewards_app,
        ["publish", "--campaign", str(campaign_id), "--allocations", str(path), "--post"],
    )
    assert result.exit_code == 0, result.output
    on_chain = chain.rewards.functions.campaign(campaign_id).call()
    assert on_chain[9] == 42
    result = runner.invoke(cli.rewards.rewards_app, ["show", "--campaign", str(campaign_id)])
    assert result.exit_code == 0, result.output
    assert "0x" + bytes(on_chain[8]).hex() in result.output
    assert a.address in result.output and b.address in result.output
    assert "bonus.csv (sha256" in result.output

    doubled = tmp_path / "doubled.json"
    doubled.write_text(json.dumps({a.address: 1}).replace("}", f', "{a.address.lower()}": 2}}'))
    result = runner.invoke(
        cli.rewards.rewards_app, ["publish", "--campaign", str(campaign_id), "--allocations", str(doubled)]
    )
    assert result.exit_code == 2 and "listed twice" in result.output
    other = tmp_path / "other.json"
    other.write_text(json.dumps({a.address: "31", b.address: 12}))
    result = runner.invoke(
        cli.rewards.rewards_app, ["publish", "--campaign", str(campaign_id), "--allocations", str(other)]
    )
    assert result.exit_code == 1 and "already has a published bonus tree" in result.output


# --- the store alone


def test_publishing_the_same_allocation_again_is_idempotent(engine: Engine) -> None:
    a, b = Resident().address, Resident().address
    first = _publish(engine, 7, {a: 10, b: 20})
    again = _publish(engine, 7, {b: 20, a.lower(): 10})
    assert (again.root, again.published_at, again.leaf_count, again.total) == (
        first.root,
        first.published_at,
        2,
        30,
    )
    with read_scope(engine) as s:
        assert [leaf.resident for leaf in leaves(session=s, chain_id=CHAIN, campaign_id=7)] == sorted([a, b])
        assert s.execute(text("SELECT count(*) FROM campaign_bonus_leaf")).scalar_one() == 2


def test_a_different_allocation_is_refused_once_one_is_published(engine: Engine) -> None:
    a, b = Resident().address, Resident().address
    first = _publish(engine, 3, {a: 10, b: 20})
    for changed in ({a: 10, b: 21}, {a: 10}, {a: 10, b: 20, Resident().address: 1}):
        with pytest.raises(BonusTreeConflictError) as caught:
            _publish(engine, 3, changed)
        assert caught.value.published_root == first.root
    # the same campaign id on another chain is another campaign
    assert _publish(engine, 3, {a: 1}, chain_id=1).root != first.root
    assert _leaf(engine, 3, a)[0] == 10


@pytest.mark.parametrize(
    ("allocations", "problem"),
    [
        ({}, "at least one resident"),
        ({"0x" + "ab" * 20: 0}, "positive"),
        ({"0x" + "ab" * 20: -3}, "positive"),
        ({"0x" + "ab" * 20: True}, "integer"),
        ({"0x" + "ab" * 20: "5"}, "integer"),
        ({"0x" + "ab" * 20: 1, "0x" + "AB" * 20: 2}, "listed twice"),
        ({"0xabc": 1}, "not an address"),
        ({"ab" * 20: 1}, "not an address"),
        ({"0xABaBaBaBABabABabAbAbABAbABabababaBaBABab": 1}, "EIP-55"),  # the last letter's case is wrong
        ({"0x" + "00" * 20: 1}, "zero address"),
        ({"0x" + "ab" * 20: 2**127, "0x" + "cd" * 20: 2**127}, "uint128"),
    ],
)
def test_refused_allocations(engine: Engine, allocations: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidAllocationError, match=problem):
        _publish(engine, 1, allocations)
    with read_scope(engine) as s:
        assert get_tree(session=s, chain_id=CHAIN, campaign_id=1) is None


def test_refused_campaigns_and_rules(engine: Engine) -> None:
    with session_scope(engine) as s:
        for campaign_id in (0, 2**64):
            with pytest.raises(InvalidAllocationError, match="campaign ids"):
                publish_tree(
                    session=s,
                    chain_id=CHAIN,
                    campaign_id=campaign_id,
                    allocations={Resident().address: 1},
                    rule="r",
                )
        with pytest.raises(InvalidAllocationError, match="rule"):
            publish_tree(
                session=s, chain_id=CHAIN, campaign_id=1, allocations={Resident().address: 1}, rule="  "
            )


def test_leaf_for_gives_nothing_to_whoever_is_not_in_the_tree(engine: Engine) -> None:
    a = Resident().address
    _publish(engine, 4, {a: 2**100})
    with read_scope(engine) as s:
        assert leaf_for(session=s, chain_id=CHAIN, campaign_id=4, resident=a.lower()) == (2**100, [])
        assert leaf_for(session=s, chain_id=CHAIN, campaign_id=4, resident=Resident().address) is None
        assert leaf_for(session=s, chain_id=CHAIN, campaign_id=5, resident=a) is None
        assert leaf_for(session=s, chain_id=CHAIN, campaign_id=4, resident="not an address") is None
