"""Desk mode through HTTP on a real server and anvil, under ESG_ENROLMENT_POLICY=enrolled: a
custodial staff member holding `enroller` acts for a resident the desk knows only by a case
reference. The desk's wallet is created, the resident is enrolled by the member in the same call
(the chain names the member), the action is confirmed on chain, and the assisted log names the
member and the consent hash. A member without `enroller` is refused, a platform token cannot reach
the desk's wallets, and a malformed consent hash is a 422 naming the field."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..support import Server, error_of, plogging_payload, wait_until
from .test_enrolment import _confirmed
from .test_staff_role_matrix import Deployer, wait_roles
from .test_staff_workflows import MASTER_KEY, CustodialMember

CONSENT = "0x" + "c1" * 32
PLATFORM_TOKEN = "platform-token-for-desk-tests-" + os.urandom(8).hex()


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(
        rpc_url=anvil.url,
        data_dir=data_dir,
        ESG_ENROLMENT_POLICY="enrolled",
        ESG_CUSTODY_MASTER_KEY=MASTER_KEY,
        ESG_PLATFORM_TOKENS=f'["{PLATFORM_TOKEN}"]',
    ).start()
    yield srv
    srv.stop()


def _member(server: Server, data_dir: Path, settings: Settings, deployment: Deployment, role: str) -> Any:
    member = CustodialMember(server, f"sqlite:///{data_dir / 'ledger.db'}")
    Deployer(settings, deployment).grant(role, member.address)
    member.sign_in()
    wait_roles(member, {role})
    return member


def _act(member: Any, reference: str, **overrides: Any) -> Any:
    body = {
        "resident": {"reference": reference},
        "kind": "plogging",
        "payload": plogging_payload(),
        "consentHash": CONSENT,
    } | overrides
    return member.request("POST", "/v1/staff/desk/actions", body)


def test_a_desk_member_acts_for_a_resident_with_consent_and_the_act_is_logged(
    server: Server, data_dir: Path, settings: Settings, deployment: Deployment
) -> None:
    desk = _member(server, data_dir, settings, deployment, "enroller")
    client = server.client()
    reference = "case-" + os.urandom(4).hex()

    first = _act(desk, reference)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["reference"] == reference and answer["enrolmentId"] is not None
    resident = answer["resident"]
    _confirmed(client, answer["enrolmentId"])
    confirmed = _confirmed(client, answer["id"])
    assert confirmed["kind"] == "plogging"
    # on chain: the session's log in that transaction is the resident's (an indexed topic)
    receipt = Web3(Web3.HTTPProvider(settings.rpc)).eth.get_transaction_receipt(confirmed["txHash"])
    registry = deployment.address("PloggingRegistry").lower()
    topic = "0x" + "00" * 12 + resident[2:].lower()
    assert any(
        log["address"].lower() == registry and topic in [t.to_0x_hex() for t in log["topics"]]
        for log in receipt["logs"]
    ), receipt

    # the chain names the member as the enroller, with the consent hash as evidence
    record = wait_until(
        lambda: (r := client.get(f"/v1/enrolments/{resident}")).status_code == 200 and r.json(),
        20,
        "the mirror to show the desk's enrolment",
    )
    assert (record["enroller"], record["partyName"], record["evidenceHash"]) == (
        desk.address,
        "desk:assisted",
        CONSENT,
    )

    # the same reference is the same resident; enrolled already, so no second enrolment
    again = _act(desk, reference, kind="plogging", payload=plogging_payload(distanceMeters=700))
    assert again.status_code == 202, again.text
    assert (again.json()["resident"], again.json()["enrolmentId"]) == (resident, None)
    _confirmed(client, again.json()["id"])

    listed = desk.request("GET", f"/v1/staff/desk/actions?reference={reference}")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 2
    assert {i["actionId"] for i in page["items"]} == {answer["id"], again.json()["id"]}
    for item in page["items"]:
        assert (item["resident"], item["reference"], item["kind"]) == (resident, reference, "plogging")
        assert (item["staffAddress"], item["consentHash"]) == (desk.address, CONSENT)
    by_staff = desk.request("GET", "/v1/staff/desk/actions", None)
    assert by_staff.status_code == 200
    member_id = page["items"][0]["staffMemberId"]
    mine = desk.request("GET", f"/v1/staff/desk/actions?staff={member_id}&limit=1").json()
    assert mine["total"] >= 2 and len(mine["items"]) == 1
    assert desk.request("GET", f"/v1/staff/desk/actions?staff={member_id + 1000}").json()["total"] == 0

    # a platform token reaches no desk wallet: not read, not used, not squatted
    platform = server.client()
    platform.headers["Authorization"] = f"Bearer {PLATFORM_TOKEN}"
    subject = f"desk:{reference}"
    read = platform.get(f"/v1/custody/wallets/{subject}")
    assert read.status_code == 403 and error_of(read)["code"] == "wrong_platform", read.text
    used = platform.post(
        "/v1/custody/actions", json={"subject": subject, "kind": "plogging", "payload": plogging_payload()}
    )
    assert used.status_code == 403 and error_of(used)["code"] == "wrong_platform", used.text
    squat = platform.post("/v1/custody/wallets", json={"subject": "desk:not-yet-" + os.urandom(3).hex()})
    assert squat.status_code == 403 and error_of(squat)["code"] == "wrong_platform", squat.text


def test_the_desk_refuses_members_without_enroller_and_bad_consent(
    server: Server, data_dir: Path, settings: Settings, deployment: Deployment
) -> None:
    verifier = _member(server, data_dir, settings, deployment, "verifier")
    refused = _act(verifier, "case-refused")
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden", refused.text
    assert verifier.request("GET", "/v1/staff/desk/actions").status_code == 403
    assert server.client().get("/v1/staff/desk/actions").status_code == 401

    desk = _member(server, data_dir, settings, deployment, "enroller")
    for bad in ("0x1234", "c1" * 32, "0x" + "zz" * 32):
        r = _act(desk, "case-bad-consent", consentHash=bad)
        assert r.status_code == 422 and error_of(r)["field"] == "consentHash", r.text
    r = _act(desk, "bad reference with spaces")
    assert r.status_code == 422 and error_of(r)["field"] == "resident.reference", r.text
    r = _act(desk, "case-extra", extra=1)
    assert r.status_code == 422 and error_of(r)["field"] == "extra", r.text
    # nothing was acted for: the refused references have no log rows
    assert desk.request("GET", "/v1/staff/desk/actions?reference=case-bad-consent").json()["total"] == 0
