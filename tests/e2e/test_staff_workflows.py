"""The ESG team's workflows on real anvil.

Query level (no server): the verification queue, the Merkle proof of an auto-accepted session the
product rebuilds from the mirror (revokeCommitted accepts it on chain), the feedback queue and the
admin log, read from a mirror the real indexer filled. HTTP level (a real server): each workflow
through the staff routes, checking the on-chain event names the acting member and that the mirror
and the resident's reads show the outcome (`test_http_*`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from web3 import Web3
from web3.logs import DISCARD

from indexer import queries, staff_queries
from ledger.custody import LocalMasterKey
from ledger.db import make_engine, session_scope
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.staff.members import invite_member

from ..chain.activity import Activity
from ..chain.mirror import make_indexer
from ..support import Postgres, Resident, Server, wait_until
from .test_plogging_e2e import submit_signed, wait_final
from .test_staff_role_matrix import LATER, Deployer, StaffMember, invite, wait_roles

PENDING_GRAMS = 2_000  # above the auto-accept threshold the tests set
AREA = 41117
OTHER_AREA = 11000
D_UNKNOWN = "0x" + "cd" * 32
D_UNKNOWN = "0x" + "cd" * 32
ANSWER = "답변드립니다. Bins will be added along the river trail in May."


class Chain:
    """The deployer (who holds every staff role after `deploy`) calling staff functions directly."""

    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc))
        self.account: LocalAccount = settings.deployer()
        self.deployment = deployment

    def contract(self, name: str) -> Any:
        c = self.deployment.contracts[name]
        return self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)

    def send(self, name: str, function: str, *args: Any) -> Any:
        call = getattr(self.contract(name).functions, function)(*args)
        tx = call.build_transaction(
            {
                "from": self.account.address,
                "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending"),
            }
        )
        sent = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(sent, timeout=30)
        assert receipt["status"] == 1, receipt
        return receipt


@pytest.fixture(scope="module")
def chain(settings: Settings, deployment: Deployment) -> Chain:
    c = Chain(settings, deployment)
    # sessions with more litter than this are Pending and wait for a verifier
    c.send("PloggingRegistry", "setThresholds", (2**32 - 1, 1_000, 2**64 - 1))
    return c


@pytest.fixture(scope="module")
def activity(
    settings: Settings, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Activity:
    return Activity(settings, deployment, tmp_path_factory.mktemp("staff") / "mirror.db")


def _sync(activity: Activity, deployment: Deployment) -> Any:
    indexer = make_indexer(deployment, activity.rpc, activity.engine)
    indexer.sync()
    return indexer


def test_queue_flags_history_and_the_committed_proof_revokes_on_chain(
    chain: Chain, activity: Activity, deployment: Deployment
) -> None:
    residents = [Resident() for _ in range(5)]
    # five auto-accepted sessions in one batch (an odd leaf count: the last node is carried up)
    accepted = activity.record(residents)
    pending = activity.record(residents[:2], trashGrams=PENDING_GRAMS)
    elsewhere = activity.record(residents[2:3], trashGrams=PENDING_GRAMS, areaCode=OTHER_AREA)
    _sync(activity, deployment)
    chain_id = deployment.chain_id

    with activity.engine.connect() as conn:
        page = staff_queries.verification_queue(conn, chain_id=chain_id, now=2**40)
        digests = [i["digest"] for i in page["items"]]
        assert set(pending + elsewhere) <= set(digests)
        mine = next(i for i in page["items"] if i["digest"] == pending[0])
        assert mine["evidenceHash"].startswith("0x") and len(mine["evidenceHash"]) == 66
        assert mine["history"]["accepted"] == 1 and mine["history"]["pending"] == 1
        scoped = staff_queries.verification_queue(conn, chain_id=chain_id, now=2**40, areas=frozenset({AREA}))
        assert elsewhere[0] not in [i["digest"] for i in scoped["items"]]
        big = staff_queries.verification_queue(
            conn, chain_id=chain_id, now=2**40, min_trash_grams=PENDING_GRAMS
        )
        assert {i["trashGrams"] for i in big["items"]} == {PENDING_GRAMS}
        bounds = staff_queries.current_bounds(conn, chain_id=chain_id)
        assert bounds is not None
        near = staff_queries.verification_queue(conn, chain_id=chain_id, now=2**40, flagged=True)
        not_near = staff_queries.verification_queue(conn, chain_id=chain_id, now=2**40, flagged=False)
        assert near["total"] + not_near["total"] == page["total"]
        for item in near["items"]:
            assert item["flags"]
        proofs = [staff_queries.committed_session(conn, chain_id=chain_id, digest=d) for d in accepted]
        assert staff_queries.committed_session(conn, chain_id=chain_id, digest=pending[0]) is None

    registry = chain.contract("PloggingRegistry")
    assert all(p is not None for p in proofs)
    for p in proofs:
        assert p is not None and p["root"] == "0x" + registry.functions.batchRoot(p["batchId"]).call().hex()
    last = proofs[-1]  # the carried-up odd leaf
    assert last is not None
    chain.send(
        "PloggingRegistry",
        "revokeCommitted",
        (last["batchId"], bytes.fromhex(last["digest"][2:]), last["resident"], last["reward"],
         [bytes.fromhex(x[2:]) for x in last["proof"]]),
        7,
    )  # fmt: skip
    chain.send("PloggingRegistry", "reject", bytes.fromhex(pending[0][2:]), 3)
    chain.send("PloggingRegistry", "verify", bytes.fromhex(pending[1][2:]))
    _sync(activity, deployment)

    with activity.engine.connect() as conn:
        revoked = staff_queries.session_detail(conn, chain_id=chain_id, digest=last["digest"])
        assert revoked is not None and revoked["status"] == "revoked" and revoked["reasonCode"] == 7
        assert revoked["verifier"] == chain.account.address
        rejected = staff_queries.session_detail(conn, chain_id=chain_id, digest=pending[0])
        assert rejected is not None and (rejected["status"], rejected["reasonCode"]) == ("rejected", 3)
        # the resident sees the outcome in their own read
        token = deployment.address("ParticipationToken")
        summary = queries.resident_summary(
            conn, chain_id=chain_id, token=token, resident=residents[0].address
        )
        outcome = {s["id"]: s for s in summary["recent"]["sessions"]}
        assert (outcome[pending[0]]["status"], outcome[pending[0]]["reasonCode"]) == ("rejected", 3)
        assert summary["sessionOutcomes"]["rejected"] == 1
        log = staff_queries.admin_log(
            conn,
            chain_id=chain_id,
            contract_names={c.address: n for n, c in deployment.contracts.items()},
            action="PloggingRejected",
        )
        assert log["total"] == 1 and log["items"][0]["subject"] == pending[0]
        assert log["items"][0]["actor"] == chain.account.address
        assert log["items"][0]["contractName"] == "PloggingRegistry"
        rows = list(
            staff_queries.admin_log_rows(
                conn, chain_id=chain_id, contract_names={}, actor=chain.account.address
            )
        )
        assert any(r["action"] == "PloggingThresholdsUpdated" for r in rows)
        roles = staff_queries.role_members(
            conn, chain_id=chain_id, contract_names={}, account=chain.account.address
        )
        assert {"verifier", "reviewer", "admin", "policy"} <= {r["role"] for r in roles}


def test_batch_proof_matches_the_contracts_tree_for_every_size() -> None:
    def root(leaves: list[bytes]) -> bytes:  # utils/BatchMerkle.sol, transcribed
        level = list(leaves)
        while len(level) > 1:
            nxt = [keccak(min(a, b) + max(a, b)) for a, b in zip(level[::2], level[1::2], strict=False)]
            level = nxt + ([level[-1]] if len(level) % 2 else [])
        return level[0]

    for n in range(1, 18):
        leaves = [keccak(bytes([n, i])) for i in range(n)]
        for i in range(n):
            node = leaves[i]
            for sibling in staff_queries.batch_proof(leaves, i):
                node = keccak(min(node, sibling) + max(node, sibling))
            assert node == root(leaves), (n, i)


def test_answer_hash_is_the_plain_keccak_of_the_text(tmp_path: Path) -> None:
    from sqlmodel import Session

    from ledger import answers
    from migrations import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    text = "답변드립니다. Bins will be added along the river trail in May."
    with Session(engine) as session:
        digest = answers.store_answer(
            session=session,
            chain_id=1,
            item_id=3,
            text=text,
            accepted=True,
            language="ko",
            author="0x" + "11" * 20,
        )
        again = answers.store_answer(
            session=session,
            chain_id=1,
            item_id=4,
            text=text,
            accepted=True,
            language="ko",
            author="0x" + "11" * 20,
        )
        session.commit()
        assert digest == again == "0x" + keccak(text.encode()).hex()
        assert answers.answers_by_hash(session=session, hashes=[digest])[digest].item_id == 3
        t = answers.create_template(
            session=session, name="bins", language="ko", text=text, accepted=True, created_by="0x" + "11" * 20
        )
        assert t.id is not None
        answers.update_template(session=session, template_id=t.id, text="changed")
        rows, total = answers.list_templates(session=session, language="ko")
        assert total == 1 and rows[0].text == "changed"
        assert answers.list_templates(session=session, language="en")[1] == 0
        assert answers.delete_template(session=session, template_id=t.id)
        assert not answers.delete_template(session=session, template_id=t.id)


# --- HTTP: each workflow through the staff routes on a real server -----------------------------------


def _receipt_event(w3: Web3, deployment: Deployment, contract: str, event: str, tx_hash: str) -> Any:
    c = deployment.contracts[contract]
    receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    instance = w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)
    (log,) = getattr(instance.events, event)().process_receipt(receipt, errors=DISCARD)
    return log["args"]


MASTER_KEY = os.urandom(32).hex()
DESK_ROLES = {"verifier", "reviewer", "moderator", "campaign_manager", "partner_manager", "policy", "auditor"}


class CustodialMember(StaffMember):
    """A member without a wallet: the city holds their key, unlocked by password + TOTP."""

    def __init__(self, server: Server, database_url: str) -> None:
        super().__init__(server)
        self.login = f"desk.{os.urandom(4).hex()}"
        engine = make_engine(database_url)
        with session_scope(engine) as session:
            invitation = invite_member(
                session=session,
                name="Desk",
                created_by="test",
                now=time.time(),
                login=self.login,
                keys=LocalMasterKey(bytes.fromhex(MASTER_KEY)),
            )
            self._address = invitation.member.address
            assert invitation.password is not None and invitation.totp_uri is not None
            self.password, self.totp = invitation.password, pyotp.parse_uri(invitation.totp_uri)
        engine.dispose()

    @property
    def address(self) -> str:
        return self._address

    def sign_in(self) -> StaffMember:
        body = {"login": self.login, "password": self.password, "totp": self.totp.now()}
        signed = self.client.post("/v1/staff/login", json=body)
        assert signed.status_code == 200, signed.text
        self.client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        return self


class Desk:
    """One custodial staff member (every role but admin) and the checks the workflows share."""

    def __init__(self, server: Server, settings: Settings, deployment: Deployment, database_url: str) -> None:
        self.server, self.deployment = server, deployment
        self.client = server.client()
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc))
        self.staff = CustodialMember(server, database_url)
        deployer = Deployer(settings, deployment)
        for role in DESK_ROLES:
            deployer.grant(role, self.staff.address)
        self.staff.sign_in()
        wait_roles(self.staff, DESK_ROLES)

    def done(self, method: str, path: str, body: Any = None) -> list[dict[str, Any]]:
        """A staff call, signed, relayed and confirmed; its actions' final states."""
        outcomes = [wait_final(self.client, i) for i in self.staff.act(method, path, body)]
        assert all(o["status"] == "confirmed" for o in outcomes), outcomes
        return outcomes

    def event(self, contract: str, event: str, outcome: dict[str, Any]) -> Any:
        return _receipt_event(self.w3, self.deployment, contract, event, outcome["txHash"])

    def mirrored(self, path: str, predicate: Any, what: str) -> Any:
        client = self.staff.client if path.startswith("/v1/staff/") else self.client

        def ready() -> Any:
            r = client.get(path)
            return r.json() if r.status_code == 200 and predicate(r.json()) else None

        return wait_until(ready, 20, what)


def verification_workflow(desk: Desk) -> None:
    """Thresholds set by policy; pending sessions verified, rejected, bulk-verified; an auto-accepted
    one revoked with the product's proof; the resident sees every outcome."""
    (t,) = desk.done(
        "PUT",
        "/v1/staff/policy/thresholds",
        {"maxDistanceMeters": 2**32 - 1, "maxTrashGrams": 1_000, "maxReward": 2**64 - 1},
    )
    assert desk.event("PloggingRegistry", "PloggingThresholdsUpdated", t)["by"] == desk.staff.address
    resident = Resident()
    auto = submit_signed(desk.client, resident, trashGrams=500)[2]
    pending = [submit_signed(desk.client, resident, trashGrams=PENDING_GRAMS)[2] for _ in range(4)]
    assert all(wait_final(desk.client, i)["status"] == "confirmed" for i in [auto, *pending])
    queue = desk.mirrored(
        "/v1/staff/plogging/queue?limit=200",
        lambda q: set(pending) <= {i["digest"] for i in q["items"]},
        "the queue to hold the pending sessions",
    )
    assert next(i for i in queue["items"] if i["digest"] == pending[0])["history"]["accepted"] == 1

    (v,) = desk.done("POST", f"/v1/staff/plogging/sessions/{pending[0]}/verify")
    assert desk.event("PloggingRegistry", "PloggingVerified", v)["verifier"] == desk.staff.address
    (r,) = desk.done("POST", f"/v1/staff/plogging/sessions/{pending[1]}/reject", {"reasonCode": 4})
    assert desk.event("PloggingRegistry", "PloggingRejected", r)["verifier"] == desk.staff.address
    bulk = desk.staff.request("POST", "/v1/staff/plogging/verify", {"digests": [*pending[2:], D_UNKNOWN]})
    assert bulk.status_code == 200, bulk.text
    *queued, unknown = bulk.json()["results"]
    assert unknown["error"]["code"] == "not_found"  # reported, and the others still went
    for x in queued:  # a custodial member's calls are signed and queued at once
        assert x["error"] is None and wait_final(desk.client, x["result"]["id"])["status"] == "confirmed", x
    (rv,) = desk.done("POST", f"/v1/staff/plogging/sessions/{auto}/revoke", {"reasonCode": 9})
    revoked = desk.event("PloggingRegistry", "PloggingRevoked", rv)
    assert (revoked["verifier"], revoked["reasonCode"]) == (desk.staff.address, 9)

    def outcomes(body: dict[str, Any]) -> bool:
        s = {x["id"]: x for x in body["recent"]["sessions"]}
        return (
            s[auto]["status"] == "revoked"
            and s[pending[1]]["status"] == "rejected"
            and all(s[d]["status"] == "accepted" for d in [pending[0], *pending[2:]])
        )

    body = desk.mirrored(f"/v1/residents/{resident.address}", outcomes, "the resident to see every outcome")
    s = {x["id"]: x for x in body["recent"]["sessions"]}
    assert (s[pending[1]]["reasonCode"], s[pending[1]]["verifier"]) == (4, desk.staff.address)
    assert body["sessionOutcomes"] == {"pending": 0, "accepted": 3, "rejected": 1, "revoked": 1}
    log = desk.staff.request("GET", f"/v1/staff/log?action=PloggingRevoked&actor={desk.staff.address}").json()
    assert [e["subject"] for e in log["items"]] == [auto]


def feedback_workflow(desk: Desk) -> None:
    """A resident's feedback reviewed, answered with a text (hash on chain), hidden, shown, closed."""
    from .test_feedback import prepare_feedback

    resident = Resident()
    typed = prepare_feedback(desk.client, resident).json()["typedData"]
    action = desk.client.post(
        "/v1/actions", json={"typedData": typed, "signature": resident.sign(typed)}
    ).json()["id"]
    assert wait_final(desk.client, action)["status"] == "confirmed"
    queue = desk.mirrored(
        "/v1/staff/feedback/queue?status=submitted&category=environment&limit=200",
        lambda q: any(i["digest"] == action for i in q["items"]),
        "the feedback queue to hold the item",
    )
    item = next(i for i in queue["items"] if i["digest"] == action)["id"]
    (s,) = desk.done("POST", f"/v1/staff/feedback/{item}/review")
    assert desk.event("FeedbackBox", "FeedbackReviewStarted", s)["reviewer"] == desk.staff.address
    template = desk.staff.request(
        "POST",
        "/v1/staff/feedback/templates",
        {"name": "bins", "language": "ko", "text": ANSWER, "accepted": True},
    ).json()
    (a,) = desk.done("POST", f"/v1/staff/feedback/{item}/answer", {"templateId": template["id"]})
    answered = desk.event("FeedbackBox", "FeedbackAnswered", a)
    assert answered["reviewer"] == desk.staff.address and answered["accepted"] is True
    assert (
        "0x" + answered["answerHash"].hex() == "0x" + keccak(ANSWER.encode()).hex() == template["answerHash"]
    )
    (m,) = desk.done("POST", f"/v1/staff/feedback/{item}/moderate", {"hidden": True, "reasonCode": 2})
    assert desk.event("FeedbackBox", "FeedbackModerated", m)["moderator"] == desk.staff.address
    desk.done("POST", f"/v1/staff/feedback/{item}/moderate", {"hidden": False, "reasonCode": 0})
    desk.done("POST", f"/v1/staff/feedback/{item}/close")
    body = desk.mirrored(
        f"/v1/feedback/{item}",
        lambda b: b["status"] == "closed" and len(b["moderation"]) == 2,
        "the item to close",
    )
    assert body["answer"]["text"] == ANSWER and body["answerText"] == ANSWER and body["accepted"] is True
    mine = desk.client.get(f"/v1/residents/{resident.address}").json()["recent"]["feedback"]
    assert mine[0]["answerText"] == ANSWER and mine[0]["status"] == "closed"


def directory_and_campaign_workflow(desk: Desk) -> None:
    partner = Account.create().address
    (p,) = desk.done("PUT", f"/v1/staff/partners/{partner}", {"name": "동네 카페", "expiresAt": LATER})
    assert desk.event("CommunityRewards", "PartnerSet", p)["by"] == desk.staff.address
    # Renewing checks the partner against the mirror, which follows the relayer's confirmation.
    desk.mirrored(
        "/v1/partners?limit=200",
        lambda b: any(x["address"] == partner for x in b["items"]),
        "the registered partner",
    )
    desk.done("POST", f"/v1/staff/partners/{partner}/renew", {"expiresAt": LATER + 86_400})
    listed = desk.mirrored(
        "/v1/partners?limit=200",
        lambda b: any(x["address"] == partner and x["expiresAt"] == LATER + 86_400 for x in b["items"]),
        "the renewed partner",
    )
    mine = next(x for x in listed["items"] if x["address"] == partner)
    assert mine["name"] == "동네 카페" and mine["profileVerified"] is True
    desk.done("DELETE", f"/v1/staff/partners/{partner}")
    (c,) = desk.done(
        "POST",
        "/v1/staff/campaigns",
        {"name": "줍깅", "startsAt": 1, "endsAt": LATER, "metric": "trash_grams", "goal": 1_000},
    )
    created = desk.event("CommunityRewards", "CampaignCreated", c)
    assert created["by"] == desk.staff.address
    cid = created["campaignId"]
    desk.done("POST", f"/v1/staff/campaigns/{cid}/progress", {"progress": 400})
    desk.done("POST", f"/v1/staff/campaigns/{cid}/cancel")
    desk.staff.request("PUT", f"/v1/staff/campaigns/{cid}/profile", {"name": "줍깅"})
    campaigns = desk.mirrored(
        "/v1/campaigns?status=cancelled&limit=200",
        lambda b: any(x["id"] == cid for x in b["items"]),
        "the cancelled campaign",
    )
    mine = next(x for x in campaigns["items"] if x["id"] == cid)
    assert (mine["progress"], mine["name"], mine["profileVerified"]) == (400, "줍깅", True)
    csv = desk.staff.request("GET", f"/v1/staff/log.csv?actor={desk.staff.address}&contract=CommunityRewards")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("blockNumber,logIndex,txHash,contractName")
    assert {"PartnerSet", "PartnerRemoved", "CampaignCreated", "CampaignFinalized"} <= {
        line.split(",")[5] for line in lines[1:]
    }


def staff_management_workflow(desk: Desk, database_url: str, settings: Settings) -> None:
    """An admin invites a member and grants and revokes a role on chain, as themselves."""
    admin = StaffMember(desk.server)
    invite(database_url, admin)
    Deployer(settings, desk.deployment).grant("admin", admin.address)
    admin.sign_in()
    wait_roles(admin, {"admin"})
    newcomer = StaffMember(desk.server)
    invited = admin.request("POST", "/v1/staff/members", {"name": "Newcomer", "address": newcomer.address})
    assert invited.status_code == 201, invited.text
    member_id = invited.json()["id"]
    ids = admin.act("PUT", f"/v1/staff/members/{member_id}/roles/verifier")
    (granted,) = [wait_final(desk.client, i) for i in ids]
    event = desk.event("PloggingRegistry", "RoleGranted", granted)
    assert (event["account"], event["sender"]) == (newcomer.address, admin.address)
    newcomer.sign_in()
    wait_roles(newcomer, {"verifier"})
    assert newcomer.request("GET", "/v1/staff/plogging/queue").status_code == 200
    for i in admin.act("DELETE", f"/v1/staff/members/{member_id}/roles/verifier"):
        assert wait_final(desk.client, i)["status"] == "confirmed"
    wait_until(
        lambda: newcomer.request("GET", "/v1/staff/plogging/queue").status_code == 403, 20, "revocation"
    )
    off = admin.request("POST", f"/v1/staff/members/{member_id}/deactivate")
    assert off.status_code == 200 and off.json()["status"] == "deactivated"
    assert newcomer.request("GET", "/v1/staff/me").status_code in (401, 403)


@pytest.fixture(scope="module")
def desk(anvil: AnvilNode, data_dir: Path, settings: Settings, deployment: Deployment) -> Iterator[Desk]:
    # the deployment's data folder (its manifest), a database of its own
    url = f"sqlite:///{data_dir / 'staff-http.db'}"
    server = Server(rpc_url=anvil.url, data_dir=data_dir, database_url=url, ESG_CUSTODY_MASTER_KEY=MASTER_KEY)
    server.start()
    yield Desk(server, settings, deployment, url)
    server.stop()


def test_http_verification(desk: Desk) -> None:
    verification_workflow(desk)


def test_http_feedback(desk: Desk) -> None:
    feedback_workflow(desk)


def test_http_partners_causes_campaigns_and_the_csv(desk: Desk) -> None:
    directory_and_campaign_workflow(desk)


def test_http_staff_management(desk: Desk, data_dir: Path, settings: Settings) -> None:
    staff_management_workflow(desk, f"sqlite:///{data_dir / 'staff-http.db'}", settings)


@pytest.mark.postgres
def test_http_verification_on_postgres(
    anvil: AnvilNode, data_dir: Path, settings: Settings, deployment: Deployment, postgres: Postgres
) -> None:
    database = postgres.database("staff_workflows")
    server = Server(
        rpc_url=anvil.url,
        data_dir=data_dir,
        database_url=database,
        ESG_CUSTODY_MASTER_KEY=MASTER_KEY,
    ).start()
    try:
        verification_workflow(Desk(server, settings, deployment, database))
    finally:
        server.stop()
