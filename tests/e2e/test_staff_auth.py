"""Staff sign-in over real HTTP, on SQLite and on a throwaway PostgreSQL, against a real anvil:
Sign-In with Ethereum (wrong domain, expired, replayed nonce, wrong chain, not staff), password +
TOTP (wrong and replayed codes, lock-out and its end), sessions (idle expiry, logout, CSRF for
cookies), roles from the mirror (a role revoked on chain is refused once the mirror has it), the
sign-in log, the OpenAPI security, and no secret in the server's log."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3

from ledger.custody import LocalMasterKey
from ledger.db import make_engine
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.staff import SiweMessage, deactivate_member, invite_member, role_hash
from ledger.staff.roles import DEFAULT_ADMIN_ROLE

from ..support import Postgres, Server, error_of, wait_until

MASTER = os.urandom(32)
IDLE = 3.0  # ESG_STAFF_SESSION_IDLE: short, so that expiry is seen without a long wait
LOCKOUT = 2.0  # ESG_STAFF_LOCKOUT_SECONDS


@dataclass
class Staff:
    server: Server
    engine: Engine
    deployment: Deployment
    w3: Web3
    admin_account: LocalAccount
    chain_id: int
    secrets: list[str] = field(default_factory=list)  # must never appear in the server's log
    _admin_invited: bool = False

    def client(self) -> httpx.Client:
        return self.server.client()

    def invite_custodial(self, *, account: LocalAccount | None = None) -> tuple[str, str, pyotp.TOTP]:
        login = f"staff-{uuid.uuid4().hex[:10]}"
        with Session(self.engine, expire_on_commit=False) as session:
            invitation = invite_member(
                session=session, name="박서연", created_by="test", now=time.time(), login=login,
                keys=LocalMasterKey(MASTER), account=account,
            )  # fmt: skip
            session.commit()
        assert invitation.password and invitation.totp_uri
        totp = pyotp.parse_uri(invitation.totp_uri)
        assert isinstance(totp, pyotp.TOTP)
        self.secrets += [invitation.password, totp.secret]
        return login, invitation.password, totp

    def invite_wallet(self, account: LocalAccount) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            invitation = invite_member(
                session=session, name="Choi", created_by="test", now=time.time(), address=account.address
            )
            session.commit()
        assert invitation.member.id is not None
        return invitation.member.id

    def login(self, client: httpx.Client, login: str, password: str, code: str) -> httpx.Response:
        response = client.post("/v1/staff/login", json={"login": login, "password": password, "totp": code})
        if response.status_code == 200:
            self.secrets.append(response.json()["token"])
        return response

    def siwe(self, client: httpx.Client, account: LocalAccount, **overrides: Any) -> httpx.Response:
        nonce = client.post("/v1/staff/siwe/nonce", json={"address": account.address})
        assert nonce.status_code == 200, nonce.text
        if overrides:
            fields = nonce.json()
            message = SiweMessage(
                domain=fields["domain"], address=account.address, uri=fields["uri"],
                chain_id=fields["chainId"], nonce=fields["nonce"], issued_at=fields["issuedAt"],
                expiration_time=fields["expirationTime"],
            )  # fmt: skip
            text_ = SiweMessage(**{**message.__dict__, **overrides}).text()
        else:
            text_ = nonce.json()["message"]
        return self.verify(client, text_, account)

    def verify(self, client: httpx.Client, message: str, signer: LocalAccount) -> httpx.Response:
        signature = signer.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        response = client.post("/v1/staff/siwe/verify", json={"message": message, "signature": signature})
        if response.status_code == 200:
            self.secrets.append(response.json()["token"])
        return response

    def admin(self) -> dict[str, str]:
        """A bearer header for the deployer as a wallet member: it holds DEFAULT_ADMIN_ROLE everywhere.
        Signed in afresh each time (SIWE needs no TOTP step), as the idle limit here is short."""
        if not self._admin_invited:
            self.invite_wallet(self.admin_account)
            self._admin_invited = True
        with self.client() as client:
            response = self.siwe(client, self.admin_account)
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['token']}"}

    def signins(self, **params: Any) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/v1/staff/signins", params={"limit": 500, **params}, headers=self.admin())
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def role(self, grant: bool, contract: str, role: str, account: str) -> int:
        c = self.deployment.contracts[contract]
        handle = self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi)
        call = getattr(handle.functions, "grantRole" if grant else "revokeRole")(
            bytes.fromhex(role[2:]), account
        )
        tx = call.build_transaction(
            {
                "from": self.admin_account.address,
                "nonce": self.w3.eth.get_transaction_count(self.admin_account.address, "pending"),
                "chainId": self.chain_id,
            }
        )
        signed = self.admin_account.sign_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        assert receipt["status"] == 1
        return int(receipt["blockNumber"])

    def wait_indexed(self, block: int) -> None:
        with self.client() as client:
            wait_until(
                lambda: (client.get("/v1/indexer/status").json().get("indexed") or 0) >= block,
                30,
                f"the mirror to reach block {block}",
            )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def staff(
    request: pytest.FixtureRequest,
    anvil: AnvilNode,
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path,
    deployment: Deployment,
    settings: Settings,
) -> Iterator[Staff]:
    run = tmp_path_factory.mktemp(f"staff-{request.param}")
    (run / "deployments").mkdir()
    for manifest in (data_dir / "deployments").glob("*.json"):
        (run / "deployments" / manifest.name).write_text(manifest.read_text())
    database_url = None
    if request.param == "postgres":
        postgres: Postgres = request.getfixturevalue("postgres")
        database_url = postgres.database("staff")
    server = Server(
        rpc_url=anvil.url,
        data_dir=run,
        database_url=database_url,
        ESG_CUSTODY_MASTER_KEY=MASTER.hex(),
        ESG_STAFF_SESSION_IDLE=str(IDLE),
        ESG_STAFF_LOCKOUT_SECONDS=str(LOCKOUT),
    )
    server.env["ESG_PUBLIC_URL"] = server.url
    server.start()
    engine = make_engine(database_url or f"sqlite:///{run / 'ledger.db'}")
    fixture = Staff(
        server=server,
        engine=engine,
        deployment=deployment,
        w3=Web3(Web3.HTTPProvider(anvil.url)),
        admin_account=settings.deployer(),
        chain_id=deployment.chain_id,
    )
    yield fixture
    server.stop()
    engine.dispose()


def test_siwe_signs_a_wallet_member_in_and_refuses_every_bad_message(staff: Staff) -> None:
    member = Account.create()
    member_id = staff.invite_wallet(member)
    with staff.client() as client:
        signed_in = staff.siwe(client, member)
        assert signed_in.status_code == 200, signed_in.text
        body = signed_in.json()
        assert body["tokenType"] == "bearer" and body["staff"]["memberId"] == member_id
        assert body["staff"] | {"sessionId": None} == {
            "memberId": member_id, "address": member.address, "name": "Choi", "roles": [], "areas": None,
            "custodial": False, "sessionId": None,
        }  # fmt: skip
        me = client.get("/v1/staff/me", headers={"authorization": f"Bearer {body['token']}"})
        assert me.status_code == 200 and me.json()["address"] == member.address
        assert client.get("/v1/staff/me").status_code == 200  # the cookie the sign-in set
        client.cookies.clear()

        # The same signed message again: its nonce is used.
        nonce = client.post("/v1/staff/siwe/nonce", json={"address": member.address}).json()
        message = nonce["message"]
        assert staff.verify(client, message, member).status_code == 200
        replayed = staff.verify(client, message, member)
        assert replayed.status_code == 401 and error_of(replayed)["code"] == "sign_in_refused"

        past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
        for overrides, reason in [
            ({"domain": "evil.example"}, "wrong_domain"),
            ({"expiration_time": past}, "expired"),
            ({"chain_id": 1}, "wrong_chain"),
            ({"uri": "http://evil.example"}, "wrong_uri"),
            ({"nonce": "0123456789abcdef0123456789abcdef"}, "bad_nonce"),  # never issued
        ]:
            response = staff.siwe(client, member, **overrides)
            assert response.status_code == 401, (reason, response.text)
        assert (
            staff.verify(client, message.replace(nonce["nonce"], "f" * 32), Account.create()).status_code
            == 401
        )
        outsider = staff.siwe(client, Account.create())
        assert outsider.status_code == 401 and "not a staff member" in error_of(outsider)["message"]
        assert (
            client.post("/v1/staff/siwe/verify", json={"message": "hello", "signature": "0x00"}).status_code
            == 401
        )
    reasons = [row["reason"] for row in staff.signins(method="siwe", memberId=member_id)]
    assert reasons[::-1] == [
        "ok", "ok", "bad_nonce", "wrong_domain", "expired", "wrong_chain", "wrong_uri", "bad_nonce",
        "bad_signature",
    ]  # fmt: skip
    failures = [row for row in staff.signins(method="siwe", outcome="failure") if row["memberId"] is None]
    assert {"not_staff", "malformed_message"} <= {row["reason"] for row in failures}


def test_password_and_totp_refuse_wrong_and_replayed_codes_and_lock_out(staff: Staff) -> None:
    login, password, totp = staff.invite_custodial()
    step = int(time.time() // 30)
    with staff.client() as client:
        wrong = totp.at((step + 5) * 30)
        assert staff.login(client, login, password, wrong).status_code == 401
        assert staff.login(client, login, "not-the-password", totp.at(step * 30)).status_code == 401
        ok = staff.login(client, login, password, totp.at(step * 30))
        assert ok.status_code == 200, ok.text
        assert ok.json()["staff"]["custodial"] is True
        replay = staff.login(client, login, password, totp.at(step * 30))
        assert replay.status_code == 401 and error_of(replay)["message"] == "sign-in refused"
        # Five failures in a row (the replay and four more) lock the account: even the right code is
        # refused until the window ends.
        for _ in range(4):
            assert staff.login(client, login, "wrong password!", totp.at((step + 1) * 30)).status_code == 401
        locked = staff.login(client, login, password, totp.at((step + 1) * 30))
        assert locked.status_code == 429 and error_of(locked)["code"] == "locked_out"
        time.sleep(LOCKOUT + 0.2)
        unlocked = staff.login(client, login, password, totp.at((step + 1) * 30))
        assert unlocked.status_code == 200, unlocked.text
        unknown = staff.login(client, "nobody-at-all", password, totp.now())
        # The same answer, but for the request id every problem body carries.
        same = [{k: v for k, v in r.json().items() if k != "requestId"} for r in (unknown, replay)]
        assert unknown.status_code == 401 and same[0] == same[1]
    member_id = ok.json()["staff"]["memberId"]
    reasons = [row["reason"] for row in staff.signins(method="password", memberId=member_id)][::-1]
    assert reasons == [
        "wrong_totp",
        "wrong_password",
        "ok",
        "replayed_totp",
        *["wrong_password"] * 4,
        "locked_out",
        "ok",
    ]
    assert any(
        r["identifier"] == "nobody-at-all" and r["reason"] == "unknown_account" for r in staff.signins()
    )


def test_sessions_expire_when_idle_end_on_logout_and_on_deactivation(staff: Staff) -> None:
    login, password, totp = staff.invite_custodial()
    with staff.client() as client:
        token = staff.login(client, login, password, totp.now()).json()["token"]
        bearer = {"authorization": f"Bearer {token}"}
        for _ in range(3):  # use keeps it alive past the idle limit
            time.sleep(IDLE / 2)
            assert client.get("/v1/staff/me", headers=bearer).status_code == 200
        time.sleep(IDLE + 0.5)
        expired = client.get("/v1/staff/me", headers=bearer)
        assert expired.status_code == 401 and "expired" in error_of(expired)["message"]
        assert expired.headers["www-authenticate"] == "Bearer"

        step = int(time.time() // 30) + 1  # the next code: this step's was used above
        second = staff.login(client, login, password, totp.at(step * 30)).json()
        bearer = {"authorization": f"Bearer {second['token']}"}
        assert client.post("/v1/staff/logout", headers=bearer).status_code == 204
        assert client.get("/v1/staff/me", headers=bearer).status_code == 401
        client.cookies.clear()

    wallet = Account.create()
    member_id = staff.invite_wallet(wallet)
    with staff.client() as client:
        token = staff.siwe(client, wallet).json()["token"]
        with Session(staff.engine, expire_on_commit=False) as session:
            _, revoked = deactivate_member(session=session, member_id=member_id, by="test", now=time.time())
            session.commit()
        assert revoked == 1
        assert client.get("/v1/staff/me", headers={"authorization": f"Bearer {token}"}).status_code == 401
        again = staff.siwe(client, wallet)
        assert again.status_code == 403 and error_of(again)["code"] == "forbidden"


def test_cookie_sessions_need_the_csrf_header_and_bearer_tokens_do_not(staff: Staff) -> None:
    wallet = Account.create()
    staff.invite_wallet(wallet)
    with staff.client() as client:
        signed_in = staff.siwe(client, wallet)
        session_cookie = signed_in.cookies["esg_staff_session"]
        csrf = signed_in.cookies["esg_staff_csrf"]
        assert csrf == signed_in.json()["csrfToken"] and session_cookie == signed_in.json()["token"]
        set_cookie = "\n".join(signed_in.headers.get_list("set-cookie"))
        assert "HttpOnly" in set_cookie.split("esg_staff_csrf")[0] and "SameSite=strict" in set_cookie
        assert "secure" not in set_cookie.lower()  # http here; https public URLs get Secure cookies
        assert client.get("/v1/staff/me").status_code == 200  # a safe method needs no header
        refused = client.post("/v1/staff/logout")
        assert refused.status_code == 403 and error_of(refused)["code"] == "csrf_failed"
        assert client.post("/v1/staff/logout", headers={"x-csrf-token": "0" * 64}).status_code == 403
        assert client.get("/v1/staff/me").status_code == 200  # still signed in
        assert client.post("/v1/staff/logout", headers={"x-csrf-token": csrf}).status_code == 204
        assert client.get("/v1/staff/me").status_code == 401

        other = staff.siwe(client, wallet).json()["token"]
        client.cookies.clear()
        assert (
            client.post("/v1/staff/logout", headers={"authorization": f"Bearer {other}"}).status_code == 204
        )


def test_a_role_revoked_on_chain_is_refused_as_soon_as_the_mirror_has_it(staff: Staff) -> None:
    wallet = Account.create()
    staff.invite_wallet(wallet)
    staff.wait_indexed(staff.role(True, "PloggingRegistry", DEFAULT_ADMIN_ROLE, wallet.address))
    staff.wait_indexed(staff.role(True, "FeedbackBox", role_hash("REVIEWER_ROLE"), wallet.address))
    with staff.client() as client:
        bearer = {"authorization": f"Bearer {staff.siwe(client, wallet).json()['token']}"}
        assert client.get("/v1/staff/me", headers=bearer).json()["roles"] == ["reviewer", "admin"]
        assert client.get("/v1/staff/signins", headers=bearer).status_code == 200
        staff.wait_indexed(staff.role(False, "PloggingRegistry", DEFAULT_ADMIN_ROLE, wallet.address))
        refused = client.get("/v1/staff/signins", headers=bearer)  # the same session, the next request
        assert refused.status_code == 403 and "admin" in error_of(refused)["message"]
        assert client.get("/v1/staff/me", headers=bearer).json()["roles"] == ["reviewer"]
        client.cookies.clear()
        assert client.get("/v1/staff/signins").status_code == 401  # no credentials at all


def test_openapi_marks_the_security_of_every_staff_endpoint(staff: Staff) -> None:
    with staff.client() as client:
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["StaffSessionCookie"] == schemes["StaffSessionCookie"] | {
        "type": "apiKey", "in": "cookie", "name": "esg_staff_session",
    }  # fmt: skip
    assert schemes["StaffBearer"] | {"description": None} == {
        "type": "http",
        "scheme": "bearer",
        "description": None,
    }
    staff_paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/v1/staff/")}
    assert {"/v1/staff/me", "/v1/staff/logout", "/v1/staff/signins", "/v1/staff/login"} <= set(staff_paths)
    sign_in = {"/v1/staff/login", "/v1/staff/siwe/nonce", "/v1/staff/siwe/verify"}
    for path, ops in staff_paths.items():
        for method, op in ops.items():
            if path in sign_in:
                assert op["security"] == [], (path, method)
            else:
                assert {"StaffSessionCookie": []} in op["security"], (path, method)
                assert {"StaffBearer": []} in op["security"], (path, method)


def test_no_secret_reaches_the_servers_log(staff: Staff) -> None:
    staff.admin()
    assert len(staff.secrets) > 5
    log = staff.server.log.read_text()
    for secret in staff.secrets:
        assert secret not in log
    assert MASTER.hex() not in log
