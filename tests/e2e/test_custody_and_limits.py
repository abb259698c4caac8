"""Custodial wallets over real HTTP (platform-authenticated signing, export to self-custody once,
after a re-authentication) and the per-resident limits that refuse an action before any gas is
spent on it. tests/e2e/test_platforms.py covers platforms, webhooks and custody across platforms."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server, error_of, plogging_payload
from .platforms_support import PlatformUnderTest, register
from .test_plogging_e2e import submit_signed, wait_final

LEGACY_TOKEN = "platform-token-for-tests-" + os.urandom(8).hex()
MASTER = os.urandom(32).hex()
DAILY_CAP = 3


@pytest.fixture(scope="module")
def server(
    anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory, data_dir: Path, deployment: Deployment
) -> Iterator[Server]:
    run = tmp_path_factory.mktemp("custody")
    (run / "deployments").mkdir()
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run / "deployments" / manifest.name).write_text(manifest.read_text())
    srv = Server(
        rpc_url=anvil.url,
        data_dir=run,
        ESG_CUSTODY_MASTER_KEY=MASTER,
        ESG_PLATFORM_TOKENS=f'["{LEGACY_TOKEN}"]',
        ESG_RESIDENT_DAILY_CAP=str(DAILY_CAP),
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def platform(server: Server) -> PlatformUnderTest:
    return register(server.data_dir, MASTER, "city-app", ["plogging"])


LEGACY = {"authorization": f"Bearer {LEGACY_TOKEN}"}


def test_custodial_resident_acts_and_later_takes_the_key(server: Server, platform: PlatformUnderTest) -> None:
    auth = platform.auth
    with server.client() as client:
        assert client.post("/v1/custody/wallets", json={"subject": "citizen-7"}).status_code == 401
        bad = {"authorization": "Bearer not-the-token"}
        assert (
            client.post("/v1/custody/wallets", json={"subject": "citizen-7"}, headers=bad).status_code == 401
        )

        created = client.post("/v1/custody/wallets", json={"subject": "citizen-7"}, headers=auth)
        assert created.status_code == 201, created.text
        address = created.json()["address"]
        again = client.post("/v1/custody/wallets", json={"subject": "citizen-7"}, headers=auth).json()
        assert again["address"] == address  # one wallet per subject

        acted = client.post(
            "/v1/custody/actions",
            json={"subject": "citizen-7", "kind": "plogging", "payload": plogging_payload()},
            headers=auth,
        )
        assert acted.status_code == 202, acted.text
        assert wait_final(client, acted.json()["id"])["status"] == "confirmed"
        resident = client.get(f"/v1/residents/{address}").json()
        assert resident["actions"].get("confirmed") == 1

        exported = client.post(
            "/v1/custody/wallets/citizen-7/export",
            json={"password": "a long passphrase"},
            headers={**auth, **platform.reauth("citizen-7")},
        )
        assert exported.status_code == 200, exported.text
        key = Account.decrypt(exported.json()["keystore"], "a long passphrase")
        assert Account.from_key(key).address == address  # the resident now holds the very key

        refused = client.post(
            "/v1/custody/actions",
            json={"subject": "citizen-7", "kind": "plogging", "payload": plogging_payload()},
            headers=auth,
        )
        assert refused.status_code == 409 and error_of(refused)["code"] == "wallet_exported"
        unknown = client.post(
            "/v1/custody/actions",
            json={"subject": "nobody", "kind": "plogging", "payload": plogging_payload()},
            headers=auth,
        )
        assert unknown.status_code == 404 and error_of(unknown)["code"] == "wallet_not_found"


def test_legacy_platform_tokens_act_as_the_default_platform_but_cannot_export(server: Server) -> None:
    with server.client() as client:
        created = client.post("/v1/custody/wallets", json={"subject": "legacy-1"}, headers=LEGACY)
        assert created.status_code == 201 and created.json()["platform"] == "default"
        acted = client.post(
            "/v1/custody/actions",
            json={"subject": "legacy-1", "kind": "plogging", "payload": plogging_payload()},
            headers=LEGACY,
        )
        assert acted.status_code == 202, acted.text
        export = client.post(
            "/v1/custody/wallets/legacy-1/export", json={"password": "a long passphrase"}, headers=LEGACY
        )
        assert export.status_code == 401 and error_of(export)["code"] == "reauth_unavailable"


def test_daily_cap_refuses_before_gas_and_duplicates_do_not_count(server: Server) -> None:
    resident = Resident()
    with server.client() as client:
        sent = [submit_signed(client, resident) for _ in range(DAILY_CAP)]
        again = client.post("/v1/actions", json={"typedData": sent[0][0], "signature": sent[0][1]})
        assert again.status_code == 202 and again.json()["id"] == sent[0][2]  # idempotent, not counted

        prepared = client.post(
            "/v1/actions/prepare",
            json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload()},
        ).json()["typedData"]
        over = client.post("/v1/actions", json={"typedData": prepared, "signature": resident.sign(prepared)})
        assert over.status_code == 429
        assert error_of(over)["code"] == "rate_limited"
        assert "daily cap" in error_of(over)["message"]
        assert [wait_final(client, s[2])["status"] for s in sent] == ["confirmed"] * DAILY_CAP


def test_batch_submit_answers_each_action(server: Server) -> None:
    resident = Resident()
    with server.client() as client:
        typed = client.post(
            "/v1/actions/prepare",
            json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload()},
        ).json()["typedData"]
        good = {"typedData": typed, "signature": resident.sign(typed)}
        forged = {"typedData": typed, "signature": Resident().sign(typed)}
        reply = client.post("/v1/actions/batch", json={"actions": [good, forged, good]})
        assert reply.status_code == 202, reply.text
        first, second, third = reply.json()["results"]
        assert first["status"] == "queued" and third == first
        assert second["error"]["code"] == "invalid_signature"
        assert wait_final(client, first["id"])["status"] == "confirmed"
