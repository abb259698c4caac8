"""Enrolment under ESG_ENROLMENT_POLICY=enrolled, through HTTP on a real server and anvil: an
unenrolled address is refused before anything is stored or sent; a service-desk staff member (a
wallet member with the `enroller` role) enrols them through the staff API; they then earn; and the
audit trail names the enrolling party and the staff member's own address, on chain and in the
mirror. A platform's enroller key enrols through `ledger.enrolment.request_enrolment` and its
resident may act at once, before the enrolment is even mined."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from ledger.chain.rpc import HttpRpc
from ledger.db import make_engine
from ledger.deploy import Deployment
from ledger.enrolment import party_code, request_enrolment
from ledger.kinds import kind
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.siwe import SiweMessage

from ..support import Resident, Server, error_of, plogging_payload, wait_until
from .test_staff_role_matrix import Deployer, StaffMember, invite, wait_roles

DESK = "desk:suwon-city-hall"
CONSENT = "0x" + "c0" * 32


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(rpc_url=anvil.url, data_dir=data_dir, ESG_ENROLMENT_POLICY="enrolled").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def desk(server: Server, settings: Settings, deployment: Deployment, data_dir: Path) -> StaffMember:
    member = StaffMember(server)
    invite(f"sqlite:///{data_dir / 'ledger.db'}", member)
    Deployer(settings, deployment).grant("enroller", member.address)
    member.sign_in()
    wait_roles(member, {"enroller"})
    return member


def _count(db: sqlite3.Connection, sql: str, *args: Any) -> int:
    return int(db.execute(sql, args).fetchone()[0])


def _signed_plogging(deployment: Deployment, resident: Resident, nonce: int) -> dict[str, Any]:
    """A well-formed signed session built without `prepare` (which refuses the unenrolled)."""
    spec = kind("plogging")
    contract = deployment.address("PloggingRegistry")
    message = {
        "resident": resident.address,
        **plogging_payload(),
        "nonce": nonce,
        "deadline": int(time.time()) + 600,
    }
    typed = spec.eip712.typed_data(deployment.chain_id, contract, message)
    return {"typedData": typed, "signature": resident.sign(typed)}


def _confirmed(client: httpx.Client, action_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/v1/actions/{action_id}").json()
        assert body["status"] != "failed", body
        return body if body["status"] == "confirmed" else None

    confirmed: dict[str, Any] = wait_until(done, 30, f"action {action_id} to be confirmed")
    return confirmed


def test_unenrolled_refused_then_enrolled_at_a_desk_earns_with_the_desk_in_the_audit_trail(
    server: Server, desk: StaffMember, deployment: Deployment, data_dir: Path, settings: Settings
) -> None:
    client = server.client()
    resident = Resident()
    db = sqlite3.connect(f"file:{data_dir / 'ledger.db'}?mode=ro", uri=True)
    txs_before = _count(db, "SELECT count(*) FROM relay_tx")

    prepared = client.post(
        "/v1/actions/prepare",
        json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload()},
    )
    assert prepared.status_code == 403, prepared.text
    assert (error_of(prepared)["code"], error_of(prepared)["field"]) == ("not_enrolled", "resident")
    submitted = client.post("/v1/actions", json=_signed_plogging(deployment, resident, 0))
    assert submitted.status_code == 403, submitted.text
    assert (error_of(submitted)["code"], error_of(submitted)["field"]) == (
        "not_enrolled",
        "typedData.message.resident",
    )
    batch = client.post("/v1/actions/batch", json={"actions": [_signed_plogging(deployment, resident, 1)]})
    assert batch.status_code == 202, batch.text
    assert batch.json()["results"][0]["error"]["code"] == "not_enrolled"
    # nothing stored, nothing sent: no nonce handed out, no outbox row, no transaction
    assert _count(db, "SELECT count(*) FROM action WHERE resident = ?", resident.address) == 0
    assert _count(db, "SELECT count(*) FROM resident_nonce WHERE resident = ?", resident.address) == 0
    assert _count(db, "SELECT count(*) FROM relay_tx") == txs_before

    # the desk enrols them: a wallet member signs their own EnrolmentRegistry.enrol
    body = {"resident": resident.address, "party": DESK, "evidenceHash": CONSENT}
    (enrol_id,) = desk.act("POST", "/v1/staff/enrolments", body)
    assert _count(db, "SELECT count(*) FROM enrolment_request WHERE resident = ?", resident.address) == 1
    # counted as enrolled from the moment the request is accepted
    prepared = client.post(
        "/v1/actions/prepare",
        json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload()},
    )
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typedData"]
    sent = client.post("/v1/actions", json={"typedData": typed, "signature": resident.sign(typed)})
    assert sent.status_code == 202, sent.text
    enrolled_tx = _confirmed(client, enrol_id)
    earned = _confirmed(client, sent.json()["id"])

    # a second enrolment is refused by the chain's simulation, naming the first party: no gas
    again = desk.request("POST", "/v1/staff/enrolments", body | {"party": "desk:another"})
    assert again.status_code == 409, again.text
    assert error_of(again)["code"] == "call_reverts"
    assert "EnrolmentRegistryAlreadyEnrolled" in error_of(again)["message"]

    # the audit trail: the chain's event names the desk member's own address and the party ...
    w3 = Web3(Web3.HTTPProvider(settings.rpc))
    registry = deployment.contracts["EnrolmentRegistry"]
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry.address), abi=registry.abi)
    (log,) = contract.events.ResidentEnrolled().get_logs(
        from_block=enrolled_tx["blockNumber"],
        to_block=enrolled_tx["blockNumber"],
        argument_filters={"resident": resident.address},
    )
    assert log["args"]["enroller"] == desk.address
    assert "0x" + log["args"]["party"].hex() == party_code(DESK)
    assert "0x" + log["args"]["evidenceHash"].hex() == CONSENT
    assert (log["blockNumber"], log["logIndex"]) < (earned["blockNumber"], earned["logIndex"])
    # ... and so does the mirror, publicly
    record = wait_until(
        lambda: (r := client.get(f"/v1/enrolments/{resident.address}")).status_code == 200 and r.json(),
        20,
        "the mirror to show the enrolment",
    )
    assert record["enrolled"] is True and record["pending"] is False
    assert (record["partyName"], record["enroller"], record["evidenceHash"]) == (DESK, desk.address, CONSENT)
    assert record["enrolledAt"] == {
        "blockNumber": log["blockNumber"],
        "txHash": log["transactionHash"].to_0x_hex(),
    }
    listed = client.get("/v1/enrolments", params={"party": DESK, "enroller": desk.address}).json()
    assert resident.address in {i["address"] for i in listed["items"]} and listed["total"] >= 1
    admin_log = db.execute(
        "SELECT actor FROM admin_action WHERE action = 'ResidentEnrolled' AND subject = ?",
        (resident.address,),
    ).fetchall()
    assert admin_log == [(desk.address,)]
    db.close()


def test_a_platform_enrols_with_its_own_key_and_its_resident_acts_at_once(
    server: Server, deployment: Deployment, data_dir: Path, settings: Settings, anvil: AnvilNode
) -> None:
    platform = Account.create()
    Deployer(settings, deployment).grant("enroller", platform.address)
    client = server.client()
    resident = Resident()
    engine = make_engine(f"sqlite:///{data_dir / 'ledger.db'}")
    rpc = HttpRpc(anvil.url)
    args: dict[str, Any] = {
        "engine": engine,
        "rpc": rpc,
        "chain_id": deployment.chain_id,
        "contracts": {n: c.address for n, c in deployment.contracts.items()},
        "abis": {n: c.abi for n, c in deployment.contracts.items()},
        "enroller": platform,
        "resident": resident.address,
        "party": "platform:metaverse",
        "evidence_hash": "0x" + "ee" * 32,
        "ttl": 600,
    }
    try:
        requested = request_enrolment(**args)
        assert requested.id is not None and requested.status == "queued"
        prepared = client.post(
            "/v1/actions/prepare",
            json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload()},
        )
        assert prepared.status_code == 200, prepared.text  # not refused while the enrolment is queued
        _confirmed(client, requested.id)
        record = wait_until(
            lambda: (r := client.get(f"/v1/enrolments/{resident.address}")).status_code == 200 and r.json(),
            20,
            "the mirror to show the platform's enrolment",
        )
        assert (record["enroller"], record["partyName"]) == (platform.address, "platform:metaverse")
        assert request_enrolment(**args).id is None  # enrolled already: nothing is sent
    finally:
        rpc.close()
        engine.dispose()


def test_enrolment_reads_and_staff_routes_refuse_bad_input(server: Server, desk: StaffMember) -> None:
    client = server.client()
    assert client.get(f"/v1/enrolments/{Account.create().address}").status_code == 404
    for params in ({"party": "Not A Code"}, {"enroller": "0x12"}, {"limit": 0}, {"limit": 201}):
        r = client.get("/v1/enrolments", params=params)
        assert r.status_code == 422, (params, r.text)
    bad = {"resident": "0x" + "12" * 20, "party": DESK, "evidenceHash": "0x12"}
    r = desk.request("POST", "/v1/staff/enrolments", bad)
    assert r.status_code == 422 and error_of(r)["field"] == "evidenceHash", r.text
    r = desk.request("POST", "/v1/staff/enrolments", {**bad, "evidenceHash": CONSENT, "extra": 1})
    assert r.status_code == 422, r.text
    nobody = server.client().post("/v1/staff/enrolments", json={**bad, "evidenceHash": CONSENT})
    assert nobody.status_code == 401


# --- residents with their own wallet: Sign-In with Ethereum, then their own private data


def _nonce_message(client: httpx.Client, address: str) -> str:
    r = client.post("/v1/residents/siwe/nonce", json={"address": address})
    assert r.status_code == 200, r.text
    message: str = r.json()["message"]
    return message


def _message(client: httpx.Client, address: str, **overrides: Any) -> str:
    """A message built by the client from a fresh nonce and the fields the server names."""
    n = client.post("/v1/residents/siwe/nonce").json()
    fields: dict[str, Any] = {
        "domain": n["domain"],
        "address": address,
        "uri": n["uri"],
        "chain_id": n["chainId"],
        "nonce": n["nonce"],
        "issued_at": n["issuedAt"],
        "expiration_time": n["expirationTime"],
    }
    return SiweMessage(**(fields | overrides)).text()


def _personal_sign(account: Any, text: str) -> str:
    return str(Account.sign_message(encode_defunct(text=text), account.key).signature.to_0x_hex())


def test_a_resident_signs_in_with_their_wallet_and_reads_their_hidden_feedback(
    server: Server, desk: StaffMember, settings: Settings, deployment: Deployment
) -> None:
    client = server.client()
    resident = Resident()
    (enrol_id,) = desk.act(
        "POST", "/v1/staff/enrolments", {"resident": resident.address, "party": DESK, "evidenceHash": CONSENT}
    )
    opinion = "The stream behind the market needs a litter trap."
    body = {"category": "environment", "content": opinion, "areaCode": 41117}
    prepared = client.post(
        "/v1/actions/prepare", json={"kind": "feedback", "resident": resident.address, "payload": body}
    )
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typedData"]
    sent = client.post("/v1/actions", json={"typedData": typed, "signature": resident.sign(typed)})
    assert sent.status_code == 202, sent.text
    _confirmed(client, enrol_id)
    _confirmed(client, sent.json()["id"])
    content_hash = typed["message"]["contentHash"]

    def item_id() -> int | None:
        items = client.get("/v1/feedback", params={"resident": resident.address}).json()["items"]
        return int(items[0]["id"]) if items else None

    item = wait_until(item_id, 20, "the mirror to hold the feedback item")
    Deployer(settings, deployment).send("FeedbackBox", "moderate", item, True, 4)  # the deployer moderates
    wait_until(
        lambda: client.get(f"/v1/feedback/{item}").json().get("hidden") is True, 20, "the item to be hidden"
    )
    assert client.get(f"/v1/feedback/{item}").json()["content"] is None  # the public never sees it

    message = _nonce_message(client, resident.address)
    signature = _personal_sign(resident.account, message)
    signed_in = client.post("/v1/residents/siwe/verify", json={"message": message, "signature": signature})
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["token"]
    assert signed_in.json()["address"] == resident.address
    me = client.get("/v1/residents/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    data = me.json()
    assert data["address"] == resident.address and data["enrolled"] is True
    assert data["enrolment"]["partyName"] == DESK and data["enrolment"]["enroller"] == desk.address
    (own,) = data["feedback"]["items"]
    assert (own["content"], own["hidden"], own["itemId"], own["contentHash"]) == (
        opinion,
        True,
        item,
        content_hash,
    )
    assert data["feedback"]["total"] == 1

    # the same signed message again: its nonce is used up
    replay = client.post("/v1/residents/siwe/verify", json={"message": message, "signature": signature})
    assert replay.status_code == 401 and error_of(replay)["code"] == "sign_in_refused"
    # another address's signature over a resident's message
    fresh = _nonce_message(client, resident.address)
    stranger = client.post(
        "/v1/residents/siwe/verify",
        json={"message": fresh, "signature": _personal_sign(Account.create(), fresh)},
    )
    assert stranger.status_code == 401 and error_of(stranger)["field"] == "signature"
    # another domain (a phishing site's message), and an expired message, each with a fresh nonce
    for overrides in (
        {"domain": "evil.example"},
        {"issued_at": "2020-01-01T00:00:00Z", "expiration_time": "2020-01-01T00:05:00Z"},
    ):
        text = _message(client, resident.address, **overrides)
        refused = client.post(
            "/v1/residents/siwe/verify",
            json={"message": text, "signature": _personal_sign(resident.account, text)},
        )
        assert refused.status_code == 401, (overrides, refused.text)
        assert (error_of(refused)["code"], error_of(refused)["field"]) == ("sign_in_refused", "message")
    # no session, a made-up one
    assert client.get("/v1/residents/me").status_code == 401
    assert client.get("/v1/residents/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    # another resident's session reads only that resident's own data
    other = Resident()
    m = _nonce_message(client, other.address)
    token2 = client.post(
        "/v1/residents/siwe/verify", json={"message": m, "signature": _personal_sign(other.account, m)}
    ).json()["token"]
    theirs = client.get("/v1/residents/me", headers={"Authorization": f"Bearer {token2}"}).json()
    assert theirs["address"] == other.address and theirs["feedback"]["items"] == []
    assert theirs["enrolled"] is False and theirs["enrolment"] is None
