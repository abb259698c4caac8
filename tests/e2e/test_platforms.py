"""Metaverse platforms over real HTTP on a real server and anvil: a platform's journey (signed
webhook → custodial resident provisioned → action confirmed → the resident's reads), webhook
refusals and idempotency, kind scopes, and custody bound to the platform that holds it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Server, error_of, plogging_payload, wait_until
from .platforms_support import PlatformUnderTest, custody_server, delivery, new_master, register
from .test_plogging_e2e import wait_final

MASTER = new_master()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("platforms")


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, run_dir: Path, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = custody_server(run_dir, anvil.url, data_dir, MASTER)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def metaverse(server: Server, run_dir: Path) -> PlatformUnderTest:
    return register(run_dir, MASTER, "metaverse", ["plogging", "feedback", "redemption"])


@pytest.fixture(scope="module")
def other(server: Server, run_dir: Path) -> PlatformUnderTest:
    return register(run_dir, MASTER, "other-app", ["feedback"])


def _rows(run_dir: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{run_dir / 'ledger.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _resident(client: httpx.Client, address: str) -> dict[str, object]:
    r = client.get(f"/v1/residents/{address}")
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_a_platforms_journey_webhook_to_confirmed_action_to_resident_reads(
    server: Server, metaverse: PlatformUnderTest
) -> None:
    body = delivery(
        "evt_journey_1",
        ("user-1842", "plogging", plogging_payload(trashGrams=640)),
        ("user-1842", "plogging", {"distanceMeters": -1}),  # bad: costs the others nothing
        ("user-77", "feedback", {"category": "environment", "content": "벤치가 부서졌어요"}),
    )
    with server.client() as client:
        reply = metaverse.deliver(client, body)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["id"] == "evt_journey_1"
        first, bad, third = answer["results"]
        assert first["status"] == "queued" and first["userId"] == "user-1842"
        assert bad["error"]["code"] == "invalid_action" and bad["error"]["field"].startswith(
            "actions.1.payload"
        )
        assert third["status"] == "queued" and third["resident"] != first["resident"]
        assert bad["resident"] == first["resident"]  # one user, one custodial resident

        assert wait_final(client, first["id"])["status"] == "confirmed"
        assert wait_final(client, third["id"])["status"] == "confirmed"

        address = first["resident"]
        wallet = client.get("/v1/custody/wallets/metaverse:user-1842", headers=metaverse.auth)
        assert wallet.status_code == 200 and wallet.json()["address"] == address
        assert wallet.json()["platform"] == "metaverse"

        def mirrored() -> dict[str, object] | None:
            resident = _resident(client, address)
            plogging = resident["plogging"]
            assert isinstance(plogging, dict)
            return resident if plogging["sessions"] == 1 else None

        resident = wait_until(mirrored, 30, "the session in the mirror")
        assert resident["address"] == address
        assert resident["plogging"]["trashGrams"] == 640


def test_refused_deliveries_record_nothing(
    server: Server, metaverse: PlatformUnderTest, run_dir: Path
) -> None:
    body = delivery("evt_refused", ("user-9", "plogging", plogging_payload()))
    url = f"/v1/platforms/{metaverse.id}/webhooks"
    with server.client() as client:
        wrong = client.post(url, content=body, headers=metaverse.signed(body, secret="whsec_not-the-secret"))
        assert wrong.status_code == 401 and error_of(wrong)["code"] == "webhook_signature_mismatch"
        headers = metaverse.signed(body)
        altered = client.post(url, content=body.replace(b"user-9", b"user-8"), headers=headers)
        assert altered.status_code == 401 and error_of(altered)["code"] == "webhook_signature_mismatch"
        old = metaverse.signed(body, ts=int(headers["Webhook-Timestamp"]) - 301)
        stale = client.post(url, content=body, headers=old)
        assert stale.status_code == 401 and error_of(stale)["code"] == "webhook_timestamp_stale"
        assert error_of(stale)["field"] == "Webhook-Timestamp"
        unsigned = client.post(url, content=body, headers={"content-type": "application/json"})
        assert unsigned.status_code == 401 and error_of(unsigned)["code"] == "webhook_signature_missing"
        unknown = client.post("/v1/platforms/nobody/webhooks", content=body, headers=headers)
        assert unknown.status_code == 401 and error_of(unknown)["code"] == "webhook_unknown_platform"
        not_json = b"{not json"
        garbled = client.post(url, content=not_json, headers=metaverse.signed(not_json))
        assert garbled.status_code == 400
        shape = b'{"id": "evt_shape", "actions": []}'
        empty = client.post(url, content=shape, headers=metaverse.signed(shape))
        assert empty.status_code == 422 and error_of(empty)["field"] == "actions"
    assert (
        _rows(run_dir, "SELECT * FROM webhook_delivery WHERE event_id IN ('evt_refused', 'evt_shape')") == []
    )
    assert _rows(run_dir, "SELECT * FROM custodial_wallet WHERE subject = 'metaverse:user-9'") == []


def test_a_redelivered_event_answers_the_same_and_records_once(
    server: Server, metaverse: PlatformUnderTest, run_dir: Path
) -> None:
    body = delivery("evt_replay", ("user-5", "plogging", plogging_payload()))
    with server.client() as client:
        first = metaverse.deliver(client, body)
        assert first.status_code == 200, first.text
        # a retry re-signs with a new timestamp (as Stripe and Standard Webhooks senders do)
        again = metaverse.deliver(client, body, ts=int(first.request.headers["Webhook-Timestamp"]) - 5)
        assert again.status_code == 200 and again.json() == first.json()
        changed = delivery("evt_replay", ("user-5", "plogging", plogging_payload(trashGrams=999)))
        conflict = metaverse.deliver(client, changed)
        assert conflict.status_code == 409 and error_of(conflict)["code"] == "webhook_event_conflict"
        action_id = first.json()["results"][0]["id"]
        assert wait_final(client, action_id)["status"] == "confirmed"
    address = first.json()["results"][0]["resident"]
    assert _rows(run_dir, f"SELECT count(*) FROM action WHERE resident = '{address}'") == [(1,)]


def test_a_delivery_retried_after_a_timeout_is_recorded_once(
    server: Server, metaverse: PlatformUnderTest, run_dir: Path
) -> None:
    body = delivery(
        "evt_timeout",
        ("user-6", "plogging", plogging_payload()),
        ("user-6", "feedback", {"category": "environment", "content": "hi"}),
    )
    impatient = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=0.001))
    try:
        metaverse.deliver(impatient, body)  # the sender gives up before the answer (usually)
    except httpx.TimeoutException:
        pass
    finally:
        impatient.close()
    with server.client() as client:

        def answered() -> httpx.Response | None:
            r = metaverse.deliver(client, body)
            if r.status_code == 409:
                assert error_of(r)["code"] == "webhook_delivery_in_progress"
                return None
            return r

        retry = wait_until(answered, 30, "the first delivery to finish")
        assert retry.status_code == 200, retry.text
        results = retry.json()["results"]
        assert [r["status"] for r in results] == ["queued", "queued"]
        assert metaverse.deliver(client, body).json() == retry.json()
        for r in results:
            assert wait_final(client, r["id"])["status"] == "confirmed"
    address = results[0]["resident"]
    assert _rows(run_dir, f"SELECT count(*) FROM action WHERE resident = '{address}'") == [(2,)]
    assert _rows(run_dir, "SELECT count(*) FROM webhook_delivery WHERE event_id = 'evt_timeout'") == [(1,)]


def test_a_platform_submits_only_its_kinds(server: Server, other: PlatformUnderTest, run_dir: Path) -> None:
    with server.client() as client:
        created = client.post("/v1/custody/wallets", json={"subject": "other-app:u1"}, headers=other.auth)
        assert created.status_code == 201, created.text
        refused = client.post(
            "/v1/custody/actions",
            json={"subject": "other-app:u1", "kind": "plogging", "payload": plogging_payload()},
            headers=other.auth,
        )
        assert refused.status_code == 403
        assert error_of(refused)["code"] == "kind_not_allowed" and error_of(refused)["field"] == "kind"
        body = delivery(
            "evt_scope",
            ("u1", "plogging", plogging_payload()),
            ("u1", "feedback", {"category": "environment", "content": "좋아요"}),
        )
        mixed = other.deliver(client, body)
        assert mixed.status_code == 200, mixed.text
        plog, feedback = mixed.json()["results"]
        assert plog["error"]["code"] == "kind_not_allowed" and plog["error"]["field"] == "actions.0.kind"
        assert feedback["status"] == "queued"
        me = client.get("/v1/platforms/me", headers=other.auth)
        assert me.status_code == 200 and me.json() == {
            "id": "other-app",
            "name": "Test platform other-app",
            "kinds": ["feedback"],
            "enroller": _rows(run_dir, "SELECT enroller_address FROM platform WHERE id = 'other-app'")[0][0],
            "enrollerRole": False,  # never granted: under `open` its residents are provisioned unenrolled
            "party": "platform:other-app",
        }


def test_custody_is_bound_to_its_platform(
    server: Server, metaverse: PlatformUnderTest, other: PlatformUnderTest
) -> None:
    subject = "metaverse:user-owned"
    with server.client() as client:
        made = client.post("/v1/custody/wallets", json={"subject": subject}, headers=metaverse.auth)
        assert made.status_code == 201, made.text
        feedback = {"category": "environment", "content": "x"}
        calls: list[tuple[str, str, dict[str, object] | None, dict[str, str]]] = [
            ("POST", "/v1/custody/wallets", {"subject": subject}, other.auth),
            ("GET", f"/v1/custody/wallets/{subject}", None, other.auth),
            (
                "POST",
                "/v1/custody/actions",
                {"subject": subject, "kind": "feedback", "payload": feedback},
                other.auth,
            ),
            (
                "POST",
                f"/v1/custody/wallets/{subject}/export",
                {"password": "a long passphrase"},
                {**other.auth, **other.reauth(subject)},
            ),
        ]
        for method, url, body, headers in calls:
            refused = client.request(method, url, json=body, headers=headers)
            assert refused.status_code == 403, refused.text
            assert error_of(refused)["code"] == "wrong_platform"
            assert made.json()["address"] not in refused.text
        # nor may another platform take a subject in this platform's namespace before it does
        squat = client.post("/v1/custody/wallets", json={"subject": "metaverse:user-new"}, headers=other.auth)
        assert squat.status_code == 403 and error_of(squat)["code"] == "wrong_platform"
        assert (
            client.get("/v1/custody/wallets/x", headers={"authorization": "Bearer nope"}).status_code == 401
        )


def test_export_once_with_a_fresh_reauthentication(
    server: Server, metaverse: PlatformUnderTest, run_dir: Path
) -> None:
    subject = "metaverse:user-export"
    url = f"/v1/custody/wallets/{subject}/export"
    password = {"password": "a long passphrase"}
    with server.client() as client:
        address = client.post(
            "/v1/custody/wallets", json={"subject": subject}, headers=metaverse.auth
        ).json()["address"]
        bare = client.post(url, json=password, headers=metaverse.auth)
        assert bare.status_code == 401 and error_of(bare)["code"] == "reauth_required"
        other_subject = client.post(
            url, json=password, headers={**metaverse.auth, **metaverse.reauth("metaverse:else")}
        )
        assert (
            other_subject.status_code == 401
            and error_of(other_subject)["code"] == "reauth_signature_mismatch"
        )
        stale = client.post(
            url,
            json=password,
            headers={**metaverse.auth, **metaverse.reauth(subject, ts=int(time.time()) - 400)},
        )
        assert stale.status_code == 401 and error_of(stale)["code"] == "reauth_timestamp_stale"

        exported = client.post(url, json=password, headers={**metaverse.auth, **metaverse.reauth(subject)})
        assert exported.status_code == 200, exported.text
        key = Account.decrypt(exported.json()["keystore"], "a long passphrase")
        assert Account.from_key(key).address == address
        assert _rows(
            run_dir,
            f"SELECT ciphertext, exported_at IS NOT NULL FROM custodial_wallet WHERE subject = '{subject}'",
        ) == [(None, 1)]

        twice = client.post(url, json=password, headers={**metaverse.auth, **metaverse.reauth(subject)})
        assert twice.status_code == 409 and error_of(twice)["code"] == "already_exported"
        after = client.post(
            "/v1/custody/actions",
            json={"subject": subject, "kind": "plogging", "payload": plogging_payload()},
            headers=metaverse.auth,
        )
        assert after.status_code == 409 and error_of(after)["code"] == "wallet_exported"
        read = client.get(f"/v1/custody/wallets/{subject}", headers=metaverse.auth).json()
        assert read == {"subject": subject, "address": address, "platform": "metaverse", "exported": True}


def test_sign_without_submitting_then_anyone_may_submit_it(
    server: Server, metaverse: PlatformUnderTest
) -> None:
    subject = "metaverse:user-qr"
    with server.client() as client:
        client.post("/v1/custody/wallets", json={"subject": subject}, headers=metaverse.auth)
        signed = client.post(
            "/v1/custody/actions",
            json={"subject": subject, "kind": "plogging", "payload": plogging_payload(), "submit": False},
            headers=metaverse.auth,
        )
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert client.get(f"/v1/actions/{body['id']}").status_code == 404  # nothing was queued
        submitted = client.post(
            "/v1/actions", json={"typedData": body["typedData"], "signature": body["signature"]}
        )
        assert submitted.status_code == 202 and submitted.json()["id"] == body["id"]
        assert wait_final(client, body["id"])["status"] == "confirmed"
