"""Campaign bonuses by rule on a real anvil: `esg-ledger rewards distribute` computes the bonus from
the mirror, publishes the tree and posts its root signed by a campaign manager (a staff call the real
relayer sends through the forwarder); `esg-ledger rewards rebuild` gets the same root from the node's
logs alone; claims through the claim kind pay once, and a wrong proof is refused on chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import Engine
from typer.testing import CliRunner
from web3.logs import DISCARD

from ledger.bonus import get_tree
from ledger.bonus_rules import allocate, parse_rule
from ledger.chain.revert import ErrorDecoder
from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine, read_scope, session_scope
from ledger.deploy import Deployment, manifest_path
from ledger.errors import ActionConflictError, BonusRuleError
from ledger.intake import attach, prepare, verify_submission
from ledger.kinds import CLAIM
from ledger.models import Action
from ledger.outbox import accept_action
from ledger.relayer import Relayer
from ledger.settings import Settings
from ledger.staff.roles import ROLE_GRANTS
from migrations import migrate

from ..support import Resident
from .mirror import make_indexer
from .scenario import Scenario

AREA, OTHER_AREA = 41117, 11000
POOL = 1000


class Story:
    """One campaign whose contributions exercise every part of the rule, and the expected split."""

    def __init__(self, settings: Settings, deployment: Deployment, engine: Engine) -> None:
        self.s = Scenario(settings, deployment)
        self.settings, self.deployment, self.engine = settings, deployment, engine
        self.rpc = HttpRpc(settings.rpc)
        self.relayer = Relayer(
            engine=engine,
            rpc=self.rpc,
            deployment=deployment,
            settings=settings.model_copy(update={"batch_max_age": 0.0}),
            accounts=settings.relayers(),
        )
        self.manager = Account.create()
        for contract, role in ROLE_GRANTS["campaign_manager"]:
            self.s.send(self.s.admin, contract, "grantRole", bytes.fromhex(role[2:]), self.manager.address)

    def session(self, who: Resident, start: int, grams: int, area: int = AREA) -> Any:
        return self.s.session(who, startedAt=start, trashGrams=grams, areaCode=area, durationSeconds=1800)

    def run(self) -> None:
        s = self.s
        self.a, self.b, self.c, self.d, self.e, self.f, self.g = (Resident() for _ in range(7))
        now = s.now()
        start, end = now - 20_000, now - 2_000  # sessions must have ended before they are recorded
        s.send(s.admin, "CommunityRewards", "createCampaign", start, end, 0, AREA, 1_000, b"\x01" * 32)
        self.campaign = int(s.c["CommunityRewards"].functions.campaignCount().call())
        s.send(s.admin, "PloggingRegistry", "setThresholds", (50_000, 20_000, 2**64 - 1))  # auto-accept
        s.record(
            self.session(self.a, start + 100, 850),
            self.session(self.b, start + 100, 850),
            self.session(self.c, start + 100, 900, OTHER_AREA),  # another area: out
            self.session(self.d, start - 5_000, 900),  # before the window: out
        )
        s.record(self.session(self.a, start + 3_000, 400))  # A's second: 1,250 g in all
        s.send(s.admin, "PloggingRegistry", "setThresholds", (50_000, 20_000, 1))  # everything waits
        e, f, g = (
            self.session(r, start + 200, grams) for r, grams in ((self.e, 700), (self.f, 300), (self.g, 500))
        )
        s.record(e, f, g)
        s.send(s.admin, "PloggingRegistry", "reject", s.digest(e), 7)  # rejected: out
        s.send(s.admin, "PloggingRegistry", "verify", s.digest(f))  # verified: in
        s.send(s.admin, "PloggingRegistry", "verify", s.digest(g))  # verified: in (revoked later)
        s.send(s.admin, "CommunityRewards", "reportCampaignProgress", self.campaign, 5_000)
        s.send(s.admin, "CommunityRewards", "finalizeCampaign", self.campaign)  # Achieved: the snapshot
        # after the snapshot: G's session revoked, a late session of B's in the window: neither changes it
        s.send(s.admin, "PloggingRegistry", "revoke", s.digest(g), 3)
        s.record(self.session(self.b, start + 4_000, 900))
        s.send(s.admin, "PloggingRegistry", "setThresholds", (50_000, 20_000, 2**64 - 1))

    def expected(self) -> dict[str, int]:
        """pro-rata over A 1,250 g, B 850, F 300, G 500 (2,900 g): 431.03, 293.10, 103.45, 172.41;
        the one point left over goes to the largest remainder, F's."""
        return {self.a.address: 431, self.b.address: 293, self.f.address: 104, self.g.address: 172}

    def index(self) -> None:
        make_indexer(self.deployment, self.rpc, self.engine).sync()

    def relay(self) -> None:
        self.relayer.tick()  # sends
        self.relayer.tick()  # settles (automine)


@pytest.fixture(scope="module")
def story(settings: Settings, deployment: Deployment) -> Story:
    engine = make_engine(settings.db_url)
    migrate(engine)
    story = Story(settings, deployment, engine)
    story.run()
    story.index()
    return story


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    import cli.rewards
    import cli.verify

    monkeypatch.setattr(cli.rewards, "get_settings", lambda: settings)
    monkeypatch.setattr(cli.verify, "get_settings", lambda: settings)
    return CliRunner().invoke(cli.rewards.rewards_app, list(args))


def test_the_split_rules() -> None:
    assert allocate("pro-rata", {"0xa": 1, "0xb": 1, "0xc": 1}, 10) == {"0xa": 4, "0xb": 3, "0xc": 3}
    assert allocate("equal", {"0xa": 1, "0xb": 5, "0xc": 1}, 10) == {"0xa": 3, "0xb": 4, "0xc": 3}
    assert allocate("pro-rata", {"0xa": 1, "0xb": 1000}, 10) == {"0xb": 10}  # 0.0099… rounds to nothing
    assert sum(allocate("pro-rata", {f"0x{i}": i for i in range(1, 40)}, 1_001).values()) == 1_001
    with pytest.raises(BonusRuleError, match="nobody contributed"):
        allocate("equal", {"0xa": 0}, 10)
    assert parse_rule("esg-ledger/bonus-rule/1 equal:sessions pool=70 campaign=2 snapshot-block=9")[1] == 70
    for bad in ("lottery", "pro-rata:co2", "esg-ledger/bonus-rule/9 equal", "equal pool=ten"):
        with pytest.raises(BonusRuleError):
            parse_rule(bad)


def test_distribute_posts_the_managers_root_and_rebuild_agrees_from_chain_alone(
    story: Story, settings: Settings, deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "manager.key"
    key.write_text(story.manager.key.hex())
    cid = str(story.campaign)
    result = _cli(
        settings, monkeypatch, "distribute", "--campaign", cid, "--pool", str(POOL), "--dry-run", "--json"
    )
    assert result.exit_code == 0, result.output
    dry = json.loads(result.stdout)
    assert {c["resident"]: c["amount"] for c in dry["contributors"]} == story.expected()
    assert {c["resident"]: c["contribution"] for c in dry["contributors"]} == {
        story.a.address: 1_250,
        story.b.address: 850,
        story.f.address: 300,
        story.g.address: 500,
    }
    with read_scope(story.engine) as s:
        assert get_tree(session=s, chain_id=deployment.chain_id, campaign_id=story.campaign) is None  # dry

    post = ("distribute", "--campaign", cid, "--key-file", str(key), "--wait", "0", "--json")
    result = _cli(settings, monkeypatch, *post, "--pool", str(POOL))
    assert result.exit_code == 0, result.output
    posted = json.loads(result.stdout)
    assert posted["published"] is True and posted["outcome"] == "queued" and posted["root"] == dry["root"]
    action_id = posted["actionId"]
    story.relay()
    with read_scope(story.engine) as s:
        action = s.get(Action, action_id)
        assert action is not None and action.status == "confirmed", action
        tx_hash = action.tx_hash
    receipt = story.s.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    rewards = story.s.c["CommunityRewards"]
    (bonus_set,) = rewards.events.CampaignBonusSet().process_receipt(receipt, errors=DISCARD)
    assert bonus_set["args"]["by"] == story.manager.address  # the manager's own call, relayed
    assert bonus_set["args"]["total"] == POOL
    root = "0x" + bytes(bonus_set["args"]["root"]).hex()
    assert root == dry["root"]

    manifest = manifest_path(settings, deployment.chain_id)
    common = ("--campaign", cid, "--rpc", settings.rpc, "--deployment", str(manifest), "--json")
    result = _cli(settings, monkeypatch, "rebuild", *common)
    assert result.exit_code == 0, result.output
    rebuilt = json.loads(result.stdout)
    assert rebuilt["matches"] is True and rebuilt["root"] == rebuilt["chainRoot"] == root
    assert {c["resident"]: c["amount"] for c in rebuilt["contributors"]} == story.expected()
    # the rule published with the tree rebuilds the same; another rule does not, and says so
    assert rebuilt["rule"] == dry["rule"] and dry["rule"].startswith(
        "esg-ledger/bonus-rule/1 pro-rata:trash_grams"
    )
    result = _cli(settings, monkeypatch, "rebuild", *common, "--rule", dry["rule"])
    assert result.exit_code == 0 and json.loads(result.stdout)["matches"] is True
    result = _cli(settings, monkeypatch, "rebuild", *common, "--rule", "equal")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["matches"] is False

    # distributing again publishes the same tree and signs nothing: the chain has this root
    result = _cli(settings, monkeypatch, *post, "--pool", str(POOL))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "on chain already"
    # a different pool is a different tree: refused once one is published
    result = _cli(settings, monkeypatch, *post, "--pool", "999")
    assert result.exit_code == 1 and "already has a published bonus tree" in result.output


def _claim(story: Story, who: Resident) -> str:
    d = story.deployment
    contracts = {n: c.address for n, c in d.contracts.items()}
    with session_scope(story.engine) as s:
        typed = prepare(
            session=s,
            rpc=story.rpc,
            chain_id=d.chain_id,
            contracts=contracts,
            kind_name="claim",
            resident=who.address,
            payload={"campaignId": story.campaign},
            now=story.s.now(),
            ttl=3600,
        )
    action = verify_submission(
        typed, who.sign(typed), chain_id=d.chain_id, contracts=contracts, now=story.s.now()
    )
    with session_scope(story.engine) as s:
        return accept_action(session=s, action=attach(action, session=s, chain_id=d.chain_id)).id


def test_claims_pay_once_and_a_wrong_proof_is_refused_on_chain(
    story: Story, settings: Settings, deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewards, token = story.s.c["CommunityRewards"], story.s.c["ParticipationToken"]
    bonus = rewards.functions.campaign(story.campaign).call()
    if bonus[9] == 0:  # run alone: distribute first
        test_distribute_posts_the_managers_root_and_rebuild_agrees_from_chain_alone(
            story, settings, deployment, tmp_path, monkeypatch
        )
    expected = story.expected()
    a, b = story.a, story.b
    before = {r.address: token.functions.balanceOf(r.address).call() for r in (a, b)}

    # through the claim kind: amount and proof from the published tree, relayed
    claim_id = _claim(story, a)
    story.relay()
    with read_scope(story.engine) as s:
        action = s.get(Action, claim_id)
        assert action is not None and action.status == "confirmed", action
    assert token.functions.balanceOf(a.address).call() == before[a.address] + expected[a.address]
    assert rewards.functions.hasClaimed(story.campaign, a.address).call() is True

    # the product refuses a second claim before anything is signed
    with pytest.raises(ActionConflictError, match="already claimed"):
        _claim(story, a)

    # on chain: a second signed claim of A's (a fresh nonce) and B's claim with A's proof
    with read_scope(story.engine) as s:
        proof_a = json.loads(s.get(Action, claim_id).message)["proof"]  # type: ignore[union-attr]
    nonce_a = rewards.functions.nonceWindow(a.address).call()[0]
    again = _signed(story, a, expected[a.address], proof_a, nonce_a)
    forged = _signed(
        story, b, expected[b.address], proof_a, rewards.functions.nonceWindow(b.address).call()[0]
    )
    receipt = story.s.send(story.s.relayer, "CommunityRewards", "claimBatch", [again, forged])
    assert rewards.events.BonusClaimed().process_receipt(receipt, errors=DISCARD) == ()
    failures = rewards.events.ActionFailed().process_receipt(receipt, errors=DISCARD)
    decoder = ErrorDecoder([c.abi for c in deployment.contracts.values()])
    reasons = {f["args"]["resident"]: decoder.decode(bytes(f["args"]["reason"])).name for f in failures}
    assert reasons == {a.address: "CommunityRewardsAlreadyClaimed", b.address: "CommunityRewardsInvalidProof"}
    assert token.functions.balanceOf(a.address).call() == before[a.address] + expected[a.address]
    assert token.functions.balanceOf(b.address).call() == before[b.address]
    assert rewards.functions.campaign(story.campaign).call()[10] == expected[a.address]  # bonusClaimed


def _signed(story: Story, who: Resident, amount: int, proof: list[str], nonce: int) -> Any:
    d = story.deployment
    message = {
        "resident": who.address,
        "campaignId": story.campaign,
        "amount": amount,
        "nonce": nonce,
        "deadline": story.s.now() + 3600,
    }
    typed = CLAIM.typed_data(d.chain_id, d.address("CommunityRewards"), message)
    claim = (who.address, story.campaign, amount, nonce, message["deadline"])
    return (claim, [bytes.fromhex(p[2:]) for p in proof], bytes.fromhex(who.sign(typed)[2:]))
