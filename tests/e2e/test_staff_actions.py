"""Staff act as themselves over real HTTP against a real anvil: a wallet member signed in with SIWE
prepares a staff call (POST /v1/staff/actions/prepare), signs the ForwardRequest, submits it (POST
/v1/staff/actions); the relayer sends it through the StaffForwarder; GET /v1/actions/{id} shows it
confirmed; the contract's event and the mirror's admin log name the member, not the relayer."""

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
from eth_account.signers.local import LocalAccount
from sqlmodel import Session
from web3 import Web3
from web3.logs import DISCARD

from ledger.db import make_engine
from ledger.deploy import ROLE, Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.staff import invite_member

from ..support import Server, error_of, wait_until


class Rig:
    def __init__(self, server: Server, deployment: Deployment, settings: Settings, db: Path) -> None:
        self.server = server
        self.deployment = deployment
        self.db = db
        self.engine = make_engine(f"sqlite:///{db}")
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc))
        self.admin: LocalAccount = settings.deployer()

    def grant(self, contract: str, role: str, account: str) -> None:
        c = self.deployment.contracts[contract]
        handle = self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)
        tx = handle.functions.grantRole(ROLE[role], account).build_transaction(
            {
                "from": self.admin.address,
                "nonce": self.w3.eth.get_transaction_count(self.admin.address, "pending"),
                "chainId": self.deployment.chain_id,
            }
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(self.admin.sign_transaction(tx).raw_transaction)
        )
        assert receipt["status"] == 1

    def signed_in(self, account: LocalAccount) -> dict[str, str]:
        """Invites `account` as a wallet member and signs them in with SIWE: a bearer header."""
        with Session(self.engine, expire_on_commit=False) as session:
            invite_member(
                session=session, name="Kim", created_by="test", now=time.time(), address=account.address
            )
            session.commit()
        with self.server.client() as client:
            nonce = client.post("/v1/staff/siwe/nonce", json={"address": account.address})
            assert nonce.status_code == 200, nonce.text
            message = nonce.json()["message"]
            signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
            response = client.post("/v1/staff/siwe/verify", json={"message": message, "signature": signature})
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['token']}"}

    def final(self, client: httpx.Client, action_id: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(f"/v1/actions/{action_id}").json()
            return body if body["status"] in ("confirmed", "failed") else None

        found: dict[str, Any] = wait_until(done, 60, f"staff request {action_id} to settle")
        return found

    def mirror(self, sql: str, *params: Any) -> list[Any]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def rig(
    anvil: AnvilNode,
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path,
    deployment: Deployment,
    settings: Settings,
) -> Iterator[Rig]:
    run = tmp_path_factory.mktemp("staff-actions")
    (run / "deployments").mkdir()
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run / "deployments" / manifest.name).write_text(manifest.read_text())
    server = Server(rpc_url=anvil.url, data_dir=run)
    server.env["ESG_PUBLIC_URL"] = server.url
    server.start()
    fixture = Rig(server, deployment, settings, run / "ledger.db")
    yield fixture
    server.stop()
    fixture.engine.dispose()


def test_a_wallet_member_acts_as_themselves_over_http(rig: Rig) -> None:
    manager: LocalAccount = Account.create()
    rig.grant("CommunityRewards", "PARTNER_MANAGER_ROLE", manager.address)
    auth = rig.signed_in(manager)
    partner = Account.create().address
    with rig.server.client() as client:
        prepared = client.post(
            "/v1/staff/actions/prepare",
            json={
                "contract": "CommunityRewards",
                "function": "setPartner",
                "args": [partner, True, 2**40, "0x" + "cd" * 32],
            },
            headers=auth,
        )
        assert prepared.status_code == 200, prepared.text
        body = prepared.json()
        typed = body["typedData"]
        assert body["call"] == {
            "contract": "CommunityRewards",
            "function": "setPartner(address,bool,uint64,bytes32)",
            "role": "PARTNER_MANAGER_ROLE",
            "to": rig.deployment.address("CommunityRewards"),
        }
        assert typed["primaryType"] == "ForwardRequest" and typed["message"]["from"] == manager.address
        signature = Account.sign_typed_data(manager.key, full_message=typed).signature.to_0x_hex()
        submitted = client.post(
            "/v1/staff/actions", json={"typedData": typed, "signature": signature}, headers=auth
        )
        assert submitted.status_code == 202, submitted.text
        action_id = submitted.json()["id"]
        assert submitted.json()["status"] == "queued"
        again = client.post(
            "/v1/staff/actions", json={"typedData": typed, "signature": signature}, headers=auth
        )
        assert again.status_code == 202 and again.json()["id"] == action_id
        final = rig.final(client, action_id)
    assert final["kind"] == "staff" and final["status"] == "confirmed", final
    receipt = rig.w3.eth.get_transaction_receipt(final["txHash"])
    assert receipt["to"] == rig.deployment.address("StaffForwarder") and receipt["from"] != manager.address
    rewards = rig.deployment.contracts["CommunityRewards"]
    events = (
        rig.w3.eth.contract(address=rewards.address, abi=rewards.abi)
        .events.PartnerSet()
        .process_receipt(receipt, errors=DISCARD)
    )
    assert [(e["args"]["partner"], e["args"]["by"]) for e in events] == [(partner, manager.address)]
    rows = wait_until(
        lambda: rig.mirror(
            "SELECT actor, subject FROM admin_action WHERE action = 'PartnerSet' AND tx_hash = ?",
            final["txHash"],
        ),
        30,
        "the mirror to record the partner",
    )
    assert rows == [(manager.address, partner)]
    forwarded = rig.mirror(
        "SELECT signer, success FROM staff_forward_request WHERE tx_hash = ?", final["txHash"]
    )
    assert forwarded == [(manager.address, 1)]


def test_a_member_without_the_role_is_refused_at_prepare(rig: Rig) -> None:
    stranger: LocalAccount = Account.create()
    auth = rig.signed_in(stranger)
    with rig.server.client() as client:
        refused = client.post(
            "/v1/staff/actions/prepare",
            json={"contract": "PloggingRegistry", "function": "setReward", "args": [[1, 2]]},
            headers=auth,
        )
        assert refused.status_code == 409, refused.text
        error = error_of(refused)
        assert error["code"] == "call_reverts" and f"{stranger.address} lacks POLICY_ROLE" in error["message"]
        assert (
            client.post("/v1/staff/actions/prepare", json={"contract": "PloggingRegistry"}).status_code == 401
        )
        unknown = client.post(
            "/v1/staff/actions/prepare",
            json={"contract": "ParticipationToken", "function": "mint", "args": [stranger.address, 5]},
            headers=auth,
        )
        assert unknown.status_code == 422 and error_of(unknown)["field"] == "function"
    assert rig.mirror("SELECT COUNT(*) FROM action WHERE resident = ?", stranger.address) == [(0,)]


def test_a_member_submits_only_their_own_requests(rig: Rig) -> None:
    owner: LocalAccount = Account.create()
    rig.grant("FeedbackBox", "POLICY_ROLE", owner.address)
    owner_auth = rig.signed_in(owner)
    other_auth = rig.signed_in(Account.create())
    with rig.server.client() as client:
        prepared = client.post(
            "/v1/staff/actions/prepare",
            json={"contract": "FeedbackBox", "function": "setCategory", "args": [33, True, "air"]},
            headers=owner_auth,
        )
        assert prepared.status_code == 200, prepared.text
        typed = prepared.json()["typedData"]
        signature = Account.sign_typed_data(owner.key, full_message=typed).signature.to_0x_hex()
        body = {"typedData": typed, "signature": signature}
        assert client.post("/v1/staff/actions", json=body, headers=other_auth).status_code == 403
        forged = Account.sign_typed_data(Account.create().key, full_message=typed).signature.to_0x_hex()
        bad = client.post("/v1/staff/actions", json={**body, "signature": forged}, headers=owner_auth)
        assert bad.status_code == 422 and error_of(bad)["field"] == "signature"
        ok = client.post("/v1/staff/actions", json=body, headers=owner_auth)
        assert ok.status_code == 202, ok.text
        assert rig.final(client, ok.json()["id"])["status"] == "confirmed"


def test_the_openapi_marks_the_staff_action_routes_secured(rig: Rig) -> None:
    with rig.server.client() as client:
        spec = client.get("/openapi.json").json()
    for path in ("/v1/staff/actions/prepare", "/v1/staff/actions"):
        operation = spec["paths"][path]["post"]
        assert operation.get("security"), path
        assert {"401", "403", "422"} <= set(operation["responses"]), path
