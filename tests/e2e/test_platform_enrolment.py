"""A platform enrols the residents it provisions with its own enroller key, under
ESG_ENROLMENT_POLICY=enrolled, over real HTTP on a real server and anvil: signed webhook → custodial
resident provisioned → enrolled on chain by the platform's own address for `platform:<id>` → the
action confirmed → the resident's reads. A platform whose enroller address lacks ENROLLER_ROLE is
refused (`platform_not_enroller`) with nothing recorded; a custodial resident nobody enrolled is
refused on `POST /v1/custody/actions` before any nonce or gas. The development demo platform works
under `enrolled` as `scripts/run` serves it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak
from sqlmodel import Session

from ledger.chain.rpc import HttpRpc
from ledger.custody import LocalMasterKey, create_wallet
from ledger.db import make_engine
from ledger.deploy import Deployment
from ledger.enrolment import party_code
from ledger.node import AnvilNode
from ledger.platforms.demo import DEMO_PLATFORM_ID, DEMO_PLATFORM_TOKEN, DEMO_WEBHOOK_SECRET
from ledger.settings import Settings

from ..support import Server, error_of, plogging_payload, wait_until
from .platforms_support import PlatformUnderTest, custody_server, delivery, new_master, register
from .test_plogging_e2e import wait_final
from .test_staff_role_matrix import Deployer

MASTER = new_master()
ENROLLED = "0x" + keccak(b"ResidentEnrolled(address,address,bytes32,bytes32)").hex()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("platform-enrolment")


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, run_dir: Path, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = custody_server(run_dir, anvil.url, data_dir, MASTER, ESG_ENROLMENT_POLICY="enrolled")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def granted(server: Server, run_dir: Path, settings: Settings, deployment: Deployment) -> PlatformUnderTest:
    """A platform whose enroller address a staff admin granted the enroller role."""
    platform = register(run_dir, MASTER, "enrolling-app", ["plogging", "feedback"])
    with server.client() as client:
        me = client.get("/v1/platforms/me", headers=platform.auth).json()
        assert me["enrollerRole"] is False and me["party"] == "platform:enrolling-app"
        Deployer(settings, deployment).grant("enroller", me["enroller"])
        wait_until(
            lambda: client.get("/v1/platforms/me", headers=platform.auth).json()["enrollerRole"],
            20,
            "the platform's enroller role",
        )
    return platform


def _rows(run_dir: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{run_dir / 'ledger.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _enroller_of(run_dir: Path, platform_id: str) -> str:
    ((address,),) = _rows(run_dir, "SELECT enroller_address FROM platform WHERE id = ?", platform_id)
    assert isinstance(address, str)
    return address


def _topic(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def test_a_platforms_journey_enrols_its_resident_with_its_own_key(
    server: Server, granted: PlatformUnderTest, run_dir: Path, anvil: AnvilNode, deployment: Deployment
) -> None:
    enroller = _enroller_of(run_dir, granted.id)
    body = delivery("evt_enrol_1", ("user-enrol-1", "plogging", plogging_payload(trashGrams=420)))
    with server.client() as client:
        reply = granted.deliver(client, body)
        assert reply.status_code == 200, reply.text
        (result,) = reply.json()["results"]
        assert result["status"] == "queued", result
        resident = result["resident"]
        assert wait_final(client, result["id"])["status"] == "confirmed"

        # on chain: ResidentEnrolled(resident, enroller = the platform's own address, party)
        rpc = HttpRpc(anvil.url)
        try:
            logs = rpc.call(
                "eth_getLogs",
                [
                    {
                        "address": deployment.address("EnrolmentRegistry"),
                        "fromBlock": hex(deployment.start_block),
                        "toBlock": "latest",
                        "topics": [ENROLLED, _topic(resident)],
                    }
                ],
            )
        finally:
            rpc.close()
        assert len(logs) == 1, logs
        (_, _, by, party) = logs[0]["topics"]
        assert by == _topic(enroller) and party == party_code("platform:enrolling-app")
        assert logs[0]["data"] == "0x" + keccak(body).hex()  # the evidence: the delivery's body

        record = wait_until(
            lambda: (r := client.get(f"/v1/enrolments/{resident}")).status_code == 200 and r.json(),
            20,
            "the mirror to show the platform's enrolment",
        )
        assert record["enrolled"] is True and record["enroller"] == enroller
        assert record["partyName"] == "platform:enrolling-app"
        assert record["evidenceHash"] == "0x" + keccak(body).hex()
        listed = client.get("/v1/enrolments", params={"party": "platform:enrolling-app"}).json()
        assert resident in [i["address"] for i in listed["items"]]

        def mirrored() -> dict[str, Any] | None:
            r = client.get(f"/v1/residents/{resident}")
            assert r.status_code == 200, r.text
            read: dict[str, Any] = r.json()
            return read if read["plogging"]["sessions"] == 1 else None

        read = wait_until(mirrored, 30, "the session in the mirror")
        assert read["plogging"]["trashGrams"] == 420
    # the enrolment request is the platform's own, in the outbox beside the resident's action
    assert _rows(run_dir, "SELECT enroller FROM enrolment_request WHERE resident = ?", resident) == [
        (enroller,)
    ]


def test_a_custody_request_enrols_too_and_acting_follows_at_once(
    server: Server, granted: PlatformUnderTest
) -> None:
    subject = "enrolling-app:desk-user"
    with server.client() as client:
        made = client.post("/v1/custody/wallets", json={"subject": subject}, headers=granted.auth)
        assert made.status_code == 201, made.text
        acted = client.post(
            "/v1/custody/actions",
            json={"subject": subject, "kind": "plogging", "payload": plogging_payload()},
            headers=granted.auth,
        )
        assert acted.status_code == 202, acted.text  # enrolled from the moment the request was stored
        assert wait_final(client, acted.json()["id"])["status"] == "confirmed"
        record = wait_until(
            lambda: (
                (r := client.get(f"/v1/enrolments/{made.json()['address']}")).status_code == 200 and r.json()
            ),
            20,
            "the mirror to show the enrolment",
        )
        expected = "0x" + keccak(f"esg-custody-wallet:enrolling-app\x00{subject}".encode()).hex()
        assert record["partyName"] == "platform:enrolling-app" and record["evidenceHash"] == expected


def test_a_platform_without_the_enroller_role_is_refused_and_nothing_is_recorded(
    server: Server, run_dir: Path
) -> None:
    platform = register(run_dir, MASTER, "no-role-app", ["plogging"])
    enroller = _enroller_of(run_dir, platform.id)
    grant = f"esg-ledger staff grant enroller {enroller}"
    body = delivery("evt_no_role", ("user-x", "plogging", plogging_payload()))
    with server.client() as client:
        refused = platform.deliver(client, body)
        assert refused.status_code == 403, refused.text
        problem = error_of(refused)
        assert problem["code"] == "platform_not_enroller" and grant in problem["message"]
        wallet = client.post("/v1/custody/wallets", json={"subject": "no-role-app:u"}, headers=platform.auth)
        assert wallet.status_code == 403 and error_of(wallet)["code"] == "platform_not_enroller"
        assert grant in error_of(wallet)["message"]
        me = client.get("/v1/platforms/me", headers=platform.auth).json()
        assert me["enroller"] == enroller and me["enrollerRole"] is False
    assert _rows(run_dir, "SELECT * FROM webhook_delivery WHERE platform_id = 'no-role-app'") == []
    assert _rows(run_dir, "SELECT * FROM custodial_wallet WHERE platform_id = 'no-role-app'") == []
    assert _rows(run_dir, "SELECT * FROM enrolment_request WHERE enroller = ?", enroller) == []


def test_an_unenrolled_custodial_resident_is_refused_before_any_gas(
    server: Server, granted: PlatformUnderTest, run_dir: Path
) -> None:
    # a resident the platform provisioned while the policy was `open`, never enrolled
    subject = "enrolling-app:from-before"
    engine = make_engine(f"sqlite:///{run_dir / 'ledger.db'}")
    try:
        with Session(engine) as session:
            wallet, created = create_wallet(
                session=session,
                subject=subject,
                platform_id=granted.id,
                keys=LocalMasterKey(bytes.fromhex(MASTER)),
            )
            session.commit()
            address = wallet.address
        assert created
    finally:
        engine.dispose()
    with server.client() as client:
        refused = client.post(
            "/v1/custody/actions",
            json={"subject": subject, "kind": "plogging", "payload": plogging_payload()},
            headers=granted.auth,
        )
        assert refused.status_code == 403, refused.text
        problem = error_of(refused)
        assert problem["code"] == "not_enrolled" and address in problem["message"]
        signed_only = client.post(
            "/v1/custody/actions",
            json={"subject": subject, "kind": "plogging", "payload": plogging_payload(), "submit": False},
            headers=granted.auth,
        )
        assert signed_only.status_code == 403 and error_of(signed_only)["code"] == "not_enrolled"
        # a webhook for this user finds the wallet (no new provisioning, no vouch) and is refused alike
        body = delivery("evt_from_before", ("from-before", "plogging", plogging_payload()))
        reply = granted.deliver(client, body)
        assert reply.status_code == 200, reply.text
        (result,) = reply.json()["results"]
        assert result["error"]["code"] == "not_enrolled" and result["resident"] == address
        assert client.get(f"/v1/enrolments/{address}").status_code == 404
    assert _rows(run_dir, "SELECT count(*) FROM action WHERE resident = ?", address) == [(0,)]
    assert _rows(run_dir, "SELECT count(*) FROM resident_nonce WHERE resident = ?", address) == [(0,)]


def test_the_platform_sees_its_enroller_and_a_redelivery_after_the_grant_works(
    server: Server, run_dir: Path, settings: Settings, deployment: Deployment
) -> None:
    platform = register(run_dir, MASTER, "late-grant-app", ["feedback"])
    body = delivery("evt_late", ("u-late", "feedback", {"category": "environment", "content": "안녕"}))
    with server.client() as client:
        first = platform.deliver(client, body)
        assert first.status_code == 403 and error_of(first)["code"] == "platform_not_enroller"
        enroller = client.get("/v1/platforms/me", headers=platform.auth).json()["enroller"]
        Deployer(settings, deployment).grant("enroller", enroller)
        # the same event, delivered again once the role is granted (the mirror may lag: the chain says)
        again = platform.deliver(client, body)
        assert again.status_code == 200, again.text
        (result,) = again.json()["results"]
        assert result["status"] == "queued", result
        assert wait_final(client, result["id"])["status"] == "confirmed"
        assert _rows(
            run_dir, "SELECT count(*) FROM enrolment_request WHERE resident = ?", result["resident"]
        ) == [(1,)]


def test_the_demo_platform_enrols_under_enrolled_as_scripts_run_serves_it(
    anvil: AnvilNode, data_dir: Path, tmp_path: Path
) -> None:
    """The development demo platform (published token and secret) is granted ENROLLER_ROLE where the
    demo data is seeded, so docs/api.md's journey works with ESG_ENROLMENT_POLICY=enrolled."""
    srv = custody_server(
        tmp_path, anvil.url, data_dir, new_master(), ESG_ENV="development", ESG_ENROLMENT_POLICY="enrolled"
    )
    try:
        demo = PlatformUnderTest(id=DEMO_PLATFORM_ID, token=DEMO_PLATFORM_TOKEN, secret=DEMO_WEBHOOK_SECRET)
        with srv.client() as client:
            me = client.get("/v1/platforms/me", headers=demo.auth).json()
            assert me["enroller"] == _enroller_of(tmp_path, DEMO_PLATFORM_ID) and me["enrollerRole"] is True
            body = delivery("evt_demo_1", ("user-1842", "plogging", plogging_payload()))
            reply = demo.deliver(client, body)
            assert reply.status_code == 200, reply.text
            (result,) = reply.json()["results"]
            assert result["status"] == "queued", result
            assert wait_final(client, result["id"])["status"] == "confirmed"
            record = wait_until(
                lambda: (
                    (r := client.get(f"/v1/enrolments/{result['resident']}")).status_code == 200 and r.json()
                ),
                20,
                "the mirror to show the demo platform's enrolment",
            )
            assert record["partyName"] == "platform:demo-metaverse" and record["enroller"] == me["enroller"]
    finally:
        srv.stop()
