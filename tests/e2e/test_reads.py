"""The public reads over real HTTP: feedback (text, hiding, erasure, supports, answers), partners,
causes, campaigns and residents, each filtered and paged; bad filters are 422s, never 500s; the same
reads from a PostgreSQL mirror; the development chain's demo records, seeded once.

The story is made once per module (`world`): residents act through the API (feedback, supports,
plogging, a redemption, a donation); the ESG team's steps (moderation, answers, partners, causes,
campaigns) are sent to the contracts with the deployer key, as the city's admin tools would.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_hash.auto import keccak
from sqlalchemy import text

from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine, session_scope
from ledger.demo import seed_demo
from ledger.deploy import ROLE, Deployment, deploy
from ledger.directory import metadata_hash, put_profile
from ledger.feedback import erase_content
from ledger.kinds import CLAIM
from ledger.node import AnvilNode
from ledger.settings import DEV_MNEMONIC, Settings

from ..chain.scenario import Scenario
from ..support import Postgres, Resident, Server, error_of, free_port, plogging_payload, wait_until
from .test_plogging_e2e import wait_final

MORE_BINS = "산책로 쓰레기통을 늘려 주세요. More bins on the river trail, please."
BUS_STOP = "버스 정류장에 그늘막이 필요해요. The bus stop needs shade."
BENCHES = "공원 벤치가 부서졌어요. A park bench is broken."
CAFE = ("한강 카페 (Riverside cafe)", "Takes points for coffee.")
RIVER = ("한강 살리기 (Save the river)", "River clean-up crews.")
CAMPAIGN = ("봄맞이 대청소 (Spring clean-up)", "Ten grams, together.")
HUGE_GOAL = 2**100  # uint128 goals: far beyond a signed 64-bit SQL integer
FOREVER = 2**64 - 1  # uint64 "never expires"
ADDRESS_OF = {"A": 0, "B": 1, "C": 2, "D": 3, "R": 4, "Q": 5}


def act(client: httpx.Client, resident: Resident, kind: str, payload: dict[str, Any]) -> str:
    """prepare → sign → submit → confirmed; returns the action id."""
    prepared = client.post(
        "/v1/actions/prepare", json={"kind": kind, "resident": resident.address, "payload": payload}
    )
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typedData"]
    accepted = client.post("/v1/actions", json={"typedData": typed, "signature": resident.sign(typed)})
    assert accepted.status_code == 202, accepted.text
    status = wait_final(client, accepted.json()["id"])
    assert status["status"] == "confirmed", status
    return str(status["id"])


def feedback(client: httpx.Client, resident: Resident, category: str, content: str, area: int) -> str:
    return act(client, resident, "feedback", {"category": category, "content": content, "areaCode": area})


@dataclass
class World:
    residents: dict[str, Resident]
    items: dict[str, int] = field(default_factory=dict)  # content → item id
    partners: dict[str, str] = field(default_factory=dict)  # active / removed / expired → address
    causes: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)  # achieved / huge / cancelled → id
    cause_wallet: str = ""

    def __getattr__(self, name: str) -> Resident:
        if name in ADDRESS_OF:
            return self.residents[name]
        raise AttributeError(name)


@pytest.fixture(scope="module")
def world(server: Server, settings: Settings, deployment: Deployment, data_dir: Path) -> World:
    client = server.client()
    chain = Scenario(settings, deployment)
    admin = settings.deployer()
    # a relayer key of the test's own (the server's relayer keeps its own nonces)
    chain.relayer = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/9")
    chain.send(admin, "CommunityRewards", "grantRole", ROLE["RELAYER_ROLE"], chain.relayer.address)
    w = World(residents={name: Resident() for name in ADDRESS_OF})
    engine = make_engine(f"sqlite:///{data_dir / 'ledger.db'}")

    # two supports oblige an answer
    chain.send(admin, "FeedbackBox", "setSettings", (2, 7 * 86_400, 3, 20))
    wait_until(
        lambda: (
            client.get("/v1/feedback", params={"limit": 1}).status_code == 200
            and client.post(
                "/v1/actions/prepare",
                json={
                    "kind": "feedback",
                    "resident": Resident().address,
                    "payload": {"category": "environment", "content": "x"},
                },
            ).status_code
            == 200
        ),
        20,
        "the categories to be indexed",
    )
    ids = [
        feedback(client, w.A, "environment", MORE_BINS, 41117),
        feedback(client, w.A, "transport", BUS_STOP, 11110),
        feedback(client, w.B, "Environment", BENCHES, 41117),
    ]
    wait_until(lambda: client.get("/v1/feedback").json()["total"] == 3, 20, "three items mirrored")
    by_digest = {i["digest"]: i["id"] for i in client.get("/v1/feedback").json()["items"]}
    w.items = dict(zip((MORE_BINS, BUS_STOP, BENCHES), (by_digest[i] for i in ids), strict=True))
    bins, bus, benches = w.items[MORE_BINS], w.items[BUS_STOP], w.items[BENCHES]

    act(client, w.C, "support", {"itemId": bins})
    act(client, w.D, "support", {"itemId": bins})  # the second: an answer is due
    act(client, w.C, "support", {"itemId": benches})
    act(client, w.R, "support", {"itemId": bus})
    chain.send(admin, "FeedbackBox", "moderate", benches, True, 4)
    chain.send(admin, "FeedbackBox", "startReview", bins)
    chain.send(admin, "FeedbackBox", "answer", bins, True, keccak(b"bins ordered"))
    with session_scope(engine) as s:
        digest = client.get(f"/v1/feedback/{bus}").json()["contentHash"]
        assert erase_content(session=s, content_hash=digest, reason="the resident asked")

    now = chain.now()
    w.partners = {"active": Resident().address, "removed": Resident().address, "expired": Resident().address}
    cafe_hash = bytes.fromhex(metadata_hash(*CAFE)[2:])
    chain.send(admin, "CommunityRewards", "setPartner", w.partners["active"], False, FOREVER, cafe_hash)
    chain.send(admin, "CommunityRewards", "setPartner", w.partners["removed"], True, FOREVER, keccak(b"x"))
    chain.send(admin, "CommunityRewards", "removePartner", w.partners["removed"])
    expires = now + 4
    chain.send(admin, "CommunityRewards", "setPartner", w.partners["expired"], True, expires, keccak(b"y"))
    w.cause_wallet = Resident().address
    chain.send(
        admin,
        "CommunityRewards",
        "setCause",
        1,
        w.cause_wallet,
        True,
        bytes.fromhex(metadata_hash(*RIVER)[2:]),
    )
    chain.send(admin, "CommunityRewards", "setCause", 2, Resident().address, False, keccak(b"closed"))
    w.causes = {"active": 1, "inactive": 2}
    ends = now + 4
    campaign_hash = bytes.fromhex(metadata_hash(*CAMPAIGN)[2:])
    chain.send(admin, "CommunityRewards", "createCampaign", now - 100, ends, 0, 41117, 10, campaign_hash)
    chain.send(admin, "CommunityRewards", "reportCampaignProgress", 1, 12)
    chain.send(
        admin, "CommunityRewards", "createCampaign", now - 10, now + 86_400, 1, 0, HUGE_GOAL, keccak(b"h")
    )
    chain.send(admin, "CommunityRewards", "reportCampaignProgress", 2, HUGE_GOAL // 3)
    chain.send(admin, "CommunityRewards", "createCampaign", now, now + 60, 2, 0, 5, keccak(b"c"))
    chain.send(admin, "CommunityRewards", "cancelCampaign", 3)
    w.campaigns = {"achieved": 1, "huge": 2, "cancelled": 3}
    with session_scope(engine) as s:
        chain_id = deployment.chain_id
        put_profile(
            session=s,
            chain_id=chain_id,
            kind="partner",
            key=w.partners["active"],
            name=CAFE[0],
            description=CAFE[1],
        )
        put_profile(session=s, chain_id=chain_id, kind="partner", key=w.partners["removed"], name="Gone")
        put_profile(session=s, chain_id=chain_id, kind="cause", key="1", name=RIVER[0], description=RIVER[1])
        put_profile(
            session=s, chain_id=chain_id, kind="campaign", key="1", name=CAMPAIGN[0], description=CAMPAIGN[1]
        )
    engine.dispose()

    # R earns points, then spends some at the cafe and gives some to the river
    for _ in range(2):
        act(client, w.R, "plogging", plogging_payload())
    wait_until(lambda: client.get(f"/v1/residents/{w.R.address}").json()["balance"] >= 60, 20, "R's points")
    act(
        client,
        w.R,
        "redemption",
        {"partner": w.partners["active"], "amount": 30, "offerHash": "0x" + "ab" * 32},
    )
    act(client, w.R, "donation", {"causeId": 1, "amount": 5})

    # campaign 1 ends achieved; Q claims 40 from a one-leaf bonus tree (sent directly: no tree API here)
    def ended() -> bool:
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return chain.now() > ends and time.time() > expires

    wait_until(ended, 20, "campaign 1 and the expiring partner to run out", interval=0.5)
    chain.send(admin, "CommunityRewards", "finalizeCampaign", 1)
    leaf = keccak(keccak(encode(["address", "uint256"], [w.Q.address, 40])))
    chain.send(admin, "CommunityRewards", "setCampaignBonus", 1, leaf, 100)
    claim = chain.signed(CLAIM, w.Q, campaignId=1, amount=40)
    chain.send(chain.relayer, "CommunityRewards", "claimBatch", [(claim[0], [], claim[1])])

    wait_until(
        lambda: (
            client.get(f"/v1/residents/{w.Q.address}").json()["claimed"] == 40
            and client.get("/v1/campaigns", params={"status": "achieved"}).json()["total"] == 1
        ),
        20,
        "the mirror to hold the whole story",
    )
    return w


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def test_feedback_list_filters_pages_and_totals(world: World, client: httpx.Client) -> None:
    everything = client.get("/v1/feedback").json()
    assert everything["total"] == 3
    assert [i["id"] for i in everything["items"]] == sorted(
        world.items.values(), reverse=True
    )  # newest first
    pages = [client.get("/v1/feedback", params={"limit": 1, "offset": n}).json() for n in range(4)]
    assert [p["total"] for p in pages] == [3, 3, 3, 3]
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in everything["items"]]
    assert pages[3]["items"] == []

    def ids(**params: Any) -> set[int]:
        page = client.get("/v1/feedback", params=params).json()
        assert page["total"] == len(page["items"])
        return {i["id"] for i in page["items"]}

    bins, bus, benches = world.items[MORE_BINS], world.items[BUS_STOP], world.items[BENCHES]
    assert ids(resident=world.A.address) == {bins, bus}
    assert ids(resident=world.A.address.lower()) == {bins, bus}
    assert ids(resident=world.C.address) == set()
    assert ids(category="environment") == {bins, benches}
    assert ids(category="TRANSPORT") == {bus}
    assert ids(category="teleportation") == set()
    assert ids(areaCode=41117) == {bins, benches}
    assert ids(areaCode=4294967295) == set()
    assert ids(status="answered") == {bins}
    assert ids(status="submitted") == {bus, benches}
    assert ids(status="closed") == set()
    assert ids(hidden=True) == {benches}
    assert ids(status="submitted", areaCode=41117) == {benches}

    first = next(i for i in everything["items"] if i["id"] == bins)
    assert first["resident"] == world.A.address
    assert (first["status"], first["category"], first["areaCode"]) == ("answered", "environment", 41117)
    assert (first["supports"], first["threshold"], first["thresholdReached"]) == (2, 2, True)
    assert first["answerDueAt"] > 0 and first["accepted"] is True
    assert first["submittedBlock"] > 0 and first["submittedTx"].startswith("0x")
    unsupported = next(i for i in everything["items"] if i["id"] == bus)
    assert (unsupported["supports"], unsupported["thresholdReached"], unsupported["answerDueAt"]) == (
        1,
        False,
        None,
    )


def test_feedback_text_is_shown_unless_hidden_or_erased(world: World, client: httpx.Client) -> None:
    items = {i["id"]: i for i in client.get("/v1/feedback").json()["items"]}
    shown = items[world.items[MORE_BINS]]
    assert (shown["content"], shown["contentState"], shown["hidden"]) == (MORE_BINS, "shown", False)
    hidden = items[world.items[BENCHES]]
    assert (hidden["content"], hidden["contentState"], hidden["hidden"]) == (None, "hidden", True)
    erased = items[world.items[BUS_STOP]]
    assert (erased["content"], erased["contentState"], erased["hidden"]) == (None, "erased", False)
    assert erased["contentHash"].startswith("0x") and len(erased["contentHash"]) == 66  # the hash stays
    for item in items.values():
        detail = client.get(f"/v1/feedback/{item['id']}").json()
        assert (detail["content"], detail["contentState"]) == (item["content"], item["contentState"])
    assert BENCHES not in client.get(f"/v1/residents/{world.B.address}").text


def test_feedback_detail_has_supporters_review_answer_and_moderation(
    world: World, client: httpx.Client
) -> None:
    bins = world.items[MORE_BINS]
    detail = client.get(f"/v1/feedback/{bins}").json()
    assert detail["id"] == bins and detail["status"] == "answered"
    supporters = detail["supporters"]
    assert supporters["total"] == 2
    assert [s["resident"] for s in supporters["items"]] == [world.C.address, world.D.address]  # oldest first
    assert all(s["blockNumber"] > 0 and s["txHash"].startswith("0x") for s in supporters["items"])
    page = client.get(f"/v1/feedback/{bins}", params={"supportsLimit": 1, "supportsOffset": 1}).json()
    assert page["supporters"] == {"items": [supporters["items"][1]], "total": 2}
    assert detail["review"]["reviewer"] == detail["answer"]["reviewer"]
    answer = detail["answer"]
    assert answer["accepted"] is True and answer["answerHash"] == "0x" + keccak(b"bins ordered").hex()
    assert (
        answer["reward"] == 50
        and answer["text"] is None
        and answer["blockNumber"] >= detail["review"]["blockNumber"]
    )
    assert detail["closed"] is None and detail["moderation"] == []

    benches = client.get(f"/v1/feedback/{world.items[BENCHES]}").json()
    (moderation,) = benches["moderation"]
    assert (moderation["hidden"], moderation["reasonCode"]) == (True, 4)
    assert benches["answer"] is None and benches["review"] is None

    missing = client.get("/v1/feedback/999999")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found" and "999999" in error_of(missing)["message"]


def test_partners_are_active_only_while_registered_and_unexpired(world: World, client: httpx.Client) -> None:
    page = client.get("/v1/partners").json()
    assert page["total"] == 3
    by_address = {p["address"]: p for p in page["items"]}
    assert [p["address"] for p in page["items"]] == sorted(by_address, key=str.lower)
    active = by_address[world.partners["active"]]
    assert (active["active"], active["registered"], active["burnOnRedeem"]) == (True, True, False)
    assert active["expiresAt"] == FOREVER  # exact: beyond a signed 64-bit integer
    assert (active["name"], active["description"]) == CAFE
    assert active["profileVerified"] is True and active["demo"] is False
    removed = by_address[world.partners["removed"]]
    assert (removed["active"], removed["registered"], removed["name"]) == (False, False, "Gone")
    assert removed["profileVerified"] is False  # the profile does not hash to the on-chain metadata
    expired = by_address[world.partners["expired"]]
    assert (expired["active"], expired["registered"], expired["name"], expired["profileVerified"]) == (
        False,
        True,
        None,
        None,
    )
    on = client.get("/v1/partners", params={"active": "true"}).json()
    assert (on["total"], [p["address"] for p in on["items"]]) == (1, [world.partners["active"]])
    off = client.get("/v1/partners", params={"active": "false", "limit": 1}).json()
    assert off["total"] == 2 and len(off["items"]) == 1


def test_causes_with_their_wallets_and_profiles(world: World, client: httpx.Client) -> None:
    page = client.get("/v1/causes").json()
    assert page["total"] == 2 and [c["id"] for c in page["items"]] == [1, 2]
    river = page["items"][0]
    assert (river["name"], river["active"], river["wallet"], river["profileVerified"]) == (
        RIVER[0],
        True,
        world.cause_wallet,
        True,
    )
    assert page["items"][1]["name"] is None and page["items"][1]["active"] is False
    assert [c["id"] for c in client.get("/v1/causes", params={"active": "false"}).json()["items"]] == [2]
    second = client.get("/v1/causes", params={"offset": 1}).json()
    assert second["total"] == 2 and [c["id"] for c in second["items"]] == [2]


def test_campaigns_by_status_with_exact_big_numbers(world: World, client: httpx.Client) -> None:
    page = client.get("/v1/campaigns").json()
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == [3, 2, 1]  # newest first
    by_id = {c["id"]: c for c in page["items"]}
    achieved = by_id[world.campaigns["achieved"]]
    assert (achieved["status"], achieved["metric"], achieved["areaCode"]) == (
        "achieved",
        "trash_grams",
        41117,
    )
    assert (achieved["goal"], achieved["progress"], achieved["progressPercent"]) == (10, 12, 120.0)
    assert achieved["bonusRoot"] is not None and (achieved["bonusTotal"], achieved["bonusClaimed"]) == (
        100,
        40,
    )
    assert (achieved["name"], achieved["profileVerified"], achieved["demo"]) == (CAMPAIGN[0], True, False)
    assert achieved["startsAt"] < achieved["endsAt"]
    huge = by_id[world.campaigns["huge"]]
    assert (huge["status"], huge["metric"], huge["goal"], huge["progress"]) == (
        "active",
        "distance_meters",
        HUGE_GOAL,
        HUGE_GOAL // 3,
    )
    assert huge["progressPercent"] == 33.33 and huge["bonusRoot"] is None and huge["name"] is None
    assert by_id[world.campaigns["cancelled"]]["status"] == "cancelled"
    for status, expected in (("active", [2]), ("achieved", [1]), ("cancelled", [3]), ("missed", [])):
        got = client.get("/v1/campaigns", params={"status": status}).json()
        assert [c["id"] for c in got["items"]] == expected and got["total"] == len(expected)


def test_resident_summary_adds_feedback_redemptions_donations_and_claims(
    world: World, client: httpx.Client
) -> None:
    r = client.get(f"/v1/residents/{world.R.address.lower()}").json()
    assert r["address"] == world.R.address
    assert r["plogging"]["sessions"] == 2 and r["actions"] == {"confirmed": 5}
    assert (r["redeemed"], r["donated"], r["claimed"]) == (30, 5, 0)
    assert r["feedback"] == {"submitted": 0, "supported": 1}
    assert r["balance"] == 2 * (600 * 10 // 1000 + 850 * 5 // 100) - 35
    recent = r["recent"]
    assert [s["itemId"] for s in recent["supports"]] == [world.items[BUS_STOP]]
    (redemption,) = recent["redemptions"]
    assert (redemption["partner"], redemption["amount"], redemption["offerHash"], redemption["burned"]) == (
        world.partners["active"],
        30,
        "0x" + "ab" * 32,
        False,
    )
    (donation,) = recent["donations"]
    assert (donation["causeId"], donation["wallet"], donation["amount"]) == (1, world.cause_wallet, 5)
    assert recent["claims"] == [] and recent["feedback"] == []

    a = client.get(f"/v1/residents/{world.A.address}").json()
    assert a["feedback"] == {"submitted": 2, "supported": 0}
    assert [i["id"] for i in a["recent"]["feedback"]] == sorted(
        (world.items[MORE_BINS], world.items[BUS_STOP]), reverse=True
    )
    assert a["balance"] == 50  # the accepted answer's reward
    q = client.get(f"/v1/residents/{world.Q.address}").json()
    assert (q["claimed"], q["balance"], q["actions"]) == (40, 40, {})
    (claim,) = q["recent"]["claims"]
    assert (claim["campaignId"], claim["amount"]) == (1, 40) and claim["digest"].startswith("0x")
    nobody = client.get(f"/v1/residents/{Resident().address}").json()
    assert (nobody["balance"], nobody["redeemed"], nobody["feedback"]) == (
        0,
        0,
        {"submitted": 0, "supported": 0},
    )


BAD_READS = [
    ("/v1/feedback", {"limit": 0}, "query.limit"),
    ("/v1/feedback", {"limit": 201}, "query.limit"),
    ("/v1/feedback", {"offset": -1}, "query.offset"),
    ("/v1/feedback", {"offset": 2**63}, "query.offset"),
    ("/v1/feedback", {"areaCode": 2**32}, "query.areaCode"),
    ("/v1/feedback", {"areaCode": 10**40}, "query.areaCode"),
    ("/v1/feedback", {"areaCode": "12abc"}, "query.areaCode"),
    ("/v1/feedback", {"status": "answered_accepted"}, "query.status"),
    ("/v1/feedback", {"resident": "0x1234"}, "query.resident"),
    ("/v1/feedback", {"resident": "0x" + "g" * 40}, "query.resident"),
    ("/v1/feedback", {"category": ""}, "query.category"),
    ("/v1/feedback", {"category": "a\x00b"}, "query.category"),
    ("/v1/feedback", {"category": "x" * 65}, "query.category"),
    ("/v1/feedback", {"hidden": "perhaps"}, "query.hidden"),
    ("/v1/feedback/0", {}, "path.item_id"),
    ("/v1/feedback/-3", {}, "path.item_id"),
    (f"/v1/feedback/{2**63}", {}, "path.item_id"),
    (f"/v1/feedback/{10**30}", {}, "path.item_id"),
    ("/v1/feedback/abc", {}, "path.item_id"),
    ("/v1/feedback/1", {"supportsLimit": 500}, "query.supportsLimit"),
    ("/v1/feedback/1", {"supportsOffset": 2**64}, "query.supportsOffset"),
    ("/v1/partners", {"active": "maybe"}, "query.active"),
    ("/v1/partners", {"offset": 10**20}, "query.offset"),
    ("/v1/causes", {"limit": 10**20}, "query.limit"),
    ("/v1/causes", {"active": "2"}, "query.active"),
    ("/v1/campaigns", {"status": "paused"}, "query.status"),
    ("/v1/campaigns", {"status": "Active"}, "query.status"),
    ("/v1/residents/0x1234", {}, "path.address"),
    ("/v1/residents/" + "0x" + "11" * 21, {}, "path.address"),
    ("/v1/plogging/sessions", {"areaCode": 10**30}, "query.areaCode"),
    ("/v1/plogging/sessions", {"beforeBlock": 2**63}, "query.beforeBlock"),
]


@pytest.mark.parametrize(("path", "params", "where"), BAD_READS)
def test_bad_filters_are_422_naming_the_parameter(
    server: Server, client: httpx.Client, path: str, params: dict[str, Any], where: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    error = error_of(r)
    assert error["code"] == "invalid_request" and error["field"] == where, error


def test_largest_allowed_filters_are_answered(world: World, client: httpx.Client) -> None:
    big = 2**63 - 1
    assert client.get("/v1/feedback", params={"offset": big, "limit": 200}).json() == {
        "items": [],
        "total": 3,
    }
    assert client.get(f"/v1/feedback/{big}").status_code == 404
    assert (
        client.get("/v1/plogging/sessions", params={"areaCode": 2**32 - 1, "beforeBlock": big}).json() == []
    )
    for path in ("/v1/partners", "/v1/causes", "/v1/campaigns"):
        assert client.get(path, params={"offset": big}).json()["items"] == []


def test_openapi_documents_the_reads(server: Server, client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/feedback", "/v1/feedback/{item_id}", "/v1/partners", "/v1/causes", "/v1/campaigns"):
        get = paths[path]["get"]
        assert get["summary"] and get["description"], path
        assert "422" in get["responses"] and "200" in get["responses"], path
        params = {p["name"]: p["schema"] for p in get.get("parameters", [])}
        if "limit" in params:
            assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 200)
            assert (params["offset"]["minimum"], params["offset"]["maximum"]) == (0, 2**63 - 1)
    assert "404" in paths["/v1/feedback/{item_id}"]["get"]["responses"]

    def enum(path: str, name: str) -> list[str]:
        (param,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == name]
        (choice,) = [s for s in param["schema"]["anyOf"] if "enum" in s]
        return list(choice["enum"])

    assert enum("/v1/feedback", "status") == ["submitted", "under_review", "answered", "closed"]
    assert enum("/v1/campaigns", "status") == ["active", "achieved", "missed", "cancelled"]
    (area,) = [p for p in paths["/v1/feedback"]["get"]["parameters"] if p["name"] == "areaCode"]
    assert {"maximum": 2**32 - 1, "minimum": 0}.items() <= area["schema"]["anyOf"][0].items()
    resident = spec["components"]["schemas"]["ResidentPublic"]["properties"]
    assert {"address", "balance", "plogging", "feedback", "redeemed", "donated", "claimed", "recent"} <= set(
        resident
    )


def test_no_demo_records_outside_development(world: World, client: httpx.Client, data_dir: Path) -> None:
    for path in ("/v1/partners", "/v1/causes", "/v1/campaigns"):
        assert not any(i["demo"] for i in client.get(path).json()["items"]), path
    engine = make_engine(f"sqlite:///{data_dir / 'ledger.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM demo_seed")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM directory_profile WHERE demo")).scalar() == 0
    engine.dispose()


# --- the same reads from a PostgreSQL mirror of the same chain

_OFF_CHAIN = {"content", "contentState", "name", "description", "profileVerified", "demo", "actions"}


def _chain_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _chain_only(v) for k, v in value.items() if k not in _OFF_CHAIN}
    if isinstance(value, list):
        return [_chain_only(v) for v in value]
    return value


@pytest.mark.postgres
def test_postgres_mirror_serves_the_same_reads(
    world: World,
    client: httpx.Client,
    anvil: AnvilNode,
    data_dir: Path,
    deployment: Deployment,
    postgres: Postgres,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = tmp_path_factory.mktemp("reads-pg")
    shutil.copytree(data_dir / "deployments", run / "deployments")
    database = postgres.database("reads")
    srv = Server(rpc_url=anvil.url, data_dir=run, database_url=database).start()
    try:
        pg = srv.client()
        paths = [
            "/v1/feedback",
            "/v1/feedback?status=submitted&areaCode=41117",
            "/v1/feedback?category=environment&limit=1&offset=1",
            *(f"/v1/feedback/{i}" for i in world.items.values()),
            "/v1/partners",
            "/v1/partners?active=true",
            "/v1/causes?active=true",
            "/v1/campaigns",
            "/v1/campaigns?status=achieved",
            *(f"/v1/residents/{r.address}" for r in world.residents.values()),
            "/v1/stats",
        ]

        def same() -> bool:
            return all(_chain_only(pg.get(p).json()) == _chain_only(client.get(p).json()) for p in paths)

        wait_until(same, 30, "the PostgreSQL mirror to answer as the SQLite one")
        huge = next(c for c in pg.get("/v1/campaigns").json()["items"] if c["id"] == world.campaigns["huge"])
        assert huge["goal"] == HUGE_GOAL
        q = pg.get(f"/v1/residents/{world.Q.address}").json()
        assert q["claimed"] == 40
        pg_engine = make_engine(database)
        with session_scope(pg_engine) as s:
            put_profile(
                session=s,
                chain_id=deployment.chain_id,
                kind="cause",
                key="1",
                name=RIVER[0],
                description=RIVER[1],
            )
        pg_engine.dispose()
        river = pg.get("/v1/causes", params={"limit": 1}).json()["items"][0]
        assert (river["name"], river["profileVerified"]) == (RIVER[0], True)
        (bins,) = [i for i in pg.get("/v1/feedback").json()["items"] if i["id"] == world.items[MORE_BINS]]
        assert (bins["content"], bins["contentState"]) == (None, "missing")  # the text stayed in SQLite
    finally:
        srv.stop()


# --- demo records on the development chain


def _caught_up(client: httpx.Client) -> bool:
    status = client.get("/v1/indexer/status").json()
    return status["indexed"] is not None and status["indexed"] >= status["head"]


def _demo_records(client: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    return {p: client.get(f"/v1/{p}").json()["items"] for p in ("partners", "causes", "campaigns")}


def _campaign_count(rpc: HttpRpc, rewards: str) -> int:
    data = "0x" + keccak(b"campaignCount()")[:4].hex()
    return int(rpc.call("eth_call", [{"to": rewards, "data": data}, "latest"]), 16)


def test_development_seeds_one_demo_partner_cause_and_campaign_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = tmp_path_factory.mktemp("demo")
    with AnvilNode(port=free_port(), block_time=0) as node:
        deployment = deploy(Settings(env="test", rpc_url=node.url, data_dir=run))
        rewards = deployment.address("CommunityRewards")
        off = Server(rpc_url=node.url, data_dir=run, ESG_ENV="development", ESG_DEMO_DATA="false").start()
        try:
            wait_until(lambda: _caught_up(off.client()), 20, "the mirror to reach the head")
            assert _demo_records(off.client()) == {"partners": [], "causes": [], "campaigns": []}
        finally:
            off.stop()

        first = Server(rpc_url=node.url, data_dir=run, ESG_ENV="development").start()
        try:
            records = wait_until(lambda: all(_demo_records(first.client()).values()), 20, "the demo records")
            records = _demo_records(first.client())
        finally:
            first.stop()
        again = Server(rpc_url=node.url, data_dir=run, ESG_ENV="development").start()
        try:
            wait_until(lambda: _caught_up(again.client()), 20, "the mirror to reach the head")
            assert _demo_records(again.client()) == records  # seeded once: the restart added nothing
        finally:
            again.stop()

        (partner,) = records["partners"]
        assert partner["demo"] and partner["active"] and not partner["burnOnRedeem"]
        assert "데모" in partner["name"] and "Demo" in partner["name"] and partner["profileVerified"]
        assert partner["expiresAt"] > time.time() + 360 * 86_400
        (cause,) = records["causes"]
        assert (cause["id"], cause["active"], cause["demo"], cause["profileVerified"]) == (
            1,
            True,
            True,
            True,
        )
        assert "데모" in cause["name"] and "Demo" in cause["name"]
        (campaign,) = records["campaigns"]
        assert (campaign["status"], campaign["metric"], campaign["areaCode"], campaign["demo"]) == (
            "active",
            "trash_grams",
            0,
            True,
        )
        assert campaign["startsAt"] < time.time() and campaign["endsAt"] - campaign["startsAt"] > 29 * 86_400
        assert "데모" in campaign["name"] and "Demo" in campaign["name"] and campaign["profileVerified"]

        # A seeding interrupted after its transactions (no SQL row) finds its own work on chain.
        engine = make_engine(f"sqlite:///{run / 'ledger.db'}")
        rpc = HttpRpc(node.url)
        try:
            with session_scope(engine) as s:
                s.execute(text("DELETE FROM demo_seed"))
            seed = seed_demo(
                settings=Settings(env="development", rpc_url=node.url, data_dir=run),
                rpc=rpc,
                deployment=deployment,
                engine=engine,
            )
            assert (seed.partner, seed.cause_id, seed.campaign_id) == (partner["address"], 1, campaign["id"])
            assert _campaign_count(rpc, rewards) == 1
            with engine.connect() as conn:
                assert conn.execute(text("SELECT campaign_id FROM demo_seed")).all() == [(campaign["id"],)]
        finally:
            rpc.close()
            engine.dispose()
