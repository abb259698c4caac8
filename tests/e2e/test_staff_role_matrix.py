"""Every staff endpoint by every role (and no credentials, and a member without roles), through HTTP
on a real server and anvil, each expected status asserted.

Each role is held by its own wallet member (SIWE sign-in), granted on chain by the deployer and
mirrored by the indexer. A wallet member's staff call answers with typed data to sign, so nothing
here reaches the chain: the statuses are the authorization's, the mirror's (404) and the chain
simulation's (409 `call_reverts`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.db import make_engine, session_scope
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings
from ledger.staff.members import invite_member
from ledger.staff.roles import ROLE_GRANTS, ROLE_NAMES

from ..support import Server, error_of, wait_until

NOBODY = "(no credentials)"
ROLELESS = "(member without roles)"
D0 = "0x" + "ab" * 32  # a digest the mirror does not have
NO_ITEM = 999_999
ADDR = "0x" + "12" * 20
LATER = int(time.time()) + 365 * 86_400
ENROL = {"resident": ADDR, "party": "desk:matrix", "evidenceHash": D0}  # ADDR is never enrolled
BULK_ENROL = {"party": "desk:matrix", "residents": [{"resident": ADDR, "evidenceHash": D0}]}
# this server has no custody master key: an allowed member's assisted act is custody's 503
DESK_ACT = {"resident": {"reference": "matrix"}, "kind": "plogging", "payload": {}, "consentHash": D0}


class StaffMember:
    """A wallet staff member: their own key, signed in with SIWE, signing their own staff calls."""

    def __init__(self, server: Server, account: LocalAccount | None = None) -> None:
        self.account = account or Account.create()
        self.client = server.client()
        self.token: str | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign_in(self) -> StaffMember:
        nonce = self.client.post("/v1/staff/siwe/nonce", json={"address": self.address})
        assert nonce.status_code == 200, nonce.text
        message = nonce.json()["message"]
        signature = Account.sign_message(encode_defunct(text=message), self.account.key).signature.to_0x_hex()
        signed = self.client.post("/v1/staff/siwe/verify", json={"message": message, "signature": signature})
        assert signed.status_code == 200, signed.text
        self.token = signed.json()["token"]
        self.client.headers["Authorization"] = f"Bearer {self.token}"
        return self

    def roles(self) -> set[str]:
        return set(self.client.get("/v1/staff/me").json()["roles"])

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.client.request(method, path, json=body)

    def act(self, method: str, path: str, body: Any = None) -> list[str]:
        """Makes a staff call, signs what comes back and submits it; returns the action ids."""
        r = self.request(method, path, body)
        assert r.status_code in (200, 201), r.text
        data = r.json()
        answers = data.get("calls", [data])
        ids = []
        for answer in answers:
            if answer.get("typedData") is None:
                ids.append(answer["id"])
                continue
            typed = answer["typedData"]
            sig = Account.sign_message(
                encode_typed_data(full_message=typed), self.account.key
            ).signature.to_0x_hex()
            sent = self.client.post("/v1/staff/actions", json={"typedData": typed, "signature": sig})
            assert sent.status_code in (200, 202), sent.text
            ids.append(sent.json()["id"])
        return ids


def invite(database_url: str, *members: StaffMember) -> None:
    """Adds wallet members straight to the server's database (the first admin has to come from somewhere)."""
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        for i, m in enumerate(members):
            invite_member(
                session=session, name=f"member {i}", created_by="test", now=time.time(), address=m.address
            )
    engine.dispose()


class Deployer:
    """The deployer key (it holds DEFAULT_ADMIN_ROLE) granting roles directly on chain."""

    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc))
        self.account: LocalAccount = settings.deployer()
        self.deployment = deployment

    def send(self, contract: str, function: str, *args: Any) -> Any:
        c = self.deployment.contracts[contract]
        fn = getattr(
            self.w3.eth.contract(address=Web3.to_checksum_address(c.address), abi=c.abi).functions, function
        )
        tx = fn(*args).build_transaction(
            {
                "from": self.account.address,
                "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending"),
            }
        )
        sent = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(sent, timeout=30)
        assert receipt["status"] == 1
        return receipt

    def grant(self, role: str, account: str) -> None:
        for contract, role_id in ROLE_GRANTS[role]:
            self.send(contract, "grantRole", bytes.fromhex(role_id[2:]), account)


def wait_roles(member: StaffMember, roles: set[str]) -> None:
    wait_until(lambda: roles <= member.roles(), 20, f"the mirror to show {roles} for {member.address}")


# (method, path, body, the roles allowed, the status an allowed role gets)
ENDPOINTS: list[tuple[str, str, Any, frozenset[str], int]] = [
    ("GET", "/v1/staff/plogging/queue", None, frozenset({"verifier"}), 200),
    ("GET", f"/v1/staff/plogging/sessions/{D0}", None, frozenset({"verifier"}), 404),
    ("POST", f"/v1/staff/plogging/sessions/{D0}/verify", None, frozenset({"verifier"}), 404),
    ("POST", f"/v1/staff/plogging/sessions/{D0}/reject", {"reasonCode": 1}, frozenset({"verifier"}), 404),
    ("POST", "/v1/staff/plogging/verify", {"digests": [D0]}, frozenset({"verifier"}), 200),
    ("GET", f"/v1/staff/plogging/sessions/{D0}/proof", None, frozenset({"verifier"}), 404),
    ("POST", f"/v1/staff/plogging/sessions/{D0}/revoke", {"reasonCode": 1}, frozenset({"verifier"}), 404),
    ("POST", f"/v1/staff/plogging/clawback/{ADDR}", None, frozenset({"verifier"}), 409),  # no debt
    ("GET", "/v1/staff/feedback/queue", None, frozenset({"reviewer", "moderator"}), 200),
    ("GET", "/v1/staff/feedback/overdue", None, frozenset({"reviewer", "moderator"}), 200),
    ("POST", f"/v1/staff/feedback/{NO_ITEM}/review", None, frozenset({"reviewer"}), 404),
    ("POST", f"/v1/staff/feedback/{NO_ITEM}/answer", {"text": "x"}, frozenset({"reviewer"}), 404),
    ("POST", "/v1/staff/feedback/answers", {"itemIds": [NO_ITEM], "text": "x"}, frozenset({"reviewer"}), 200),
    ("POST", f"/v1/staff/feedback/{NO_ITEM}/close", None, frozenset({"reviewer"}), 404),
    (
        "POST",
        f"/v1/staff/feedback/{NO_ITEM}/moderate",
        {"hidden": True, "reasonCode": 1},
        frozenset({"moderator"}),
        404,
    ),
    ("GET", "/v1/staff/feedback/templates", None, frozenset({"reviewer"}), 200),
    (
        "POST",
        "/v1/staff/feedback/templates",
        {"name": "t", "language": "en", "text": "Thank you."},
        frozenset({"reviewer"}),
        201,
    ),
    ("GET", f"/v1/staff/feedback/templates/{NO_ITEM}", None, frozenset({"reviewer"}), 404),
    ("PATCH", f"/v1/staff/feedback/templates/{NO_ITEM}", {"name": "n"}, frozenset({"reviewer"}), 404),
    ("DELETE", f"/v1/staff/feedback/templates/{NO_ITEM}", None, frozenset({"reviewer"}), 404),
    (
        "POST",
        "/v1/staff/campaigns",
        {"name": "c", "startsAt": LATER, "endsAt": LATER + 86_400, "metric": "sessions", "goal": 10},
        frozenset({"campaign_manager"}),
        200,
    ),
    ("PUT", f"/v1/staff/campaigns/{NO_ITEM}/profile", {"name": "c"}, frozenset({"campaign_manager"}), 200),
    (
        "POST",
        f"/v1/staff/campaigns/{NO_ITEM}/progress",
        {"progress": 1},
        frozenset({"campaign_manager"}),
        409,
    ),
    ("POST", f"/v1/staff/campaigns/{NO_ITEM}/finalize", None, frozenset({"campaign_manager"}), 409),
    ("POST", f"/v1/staff/campaigns/{NO_ITEM}/cancel", None, frozenset({"campaign_manager"}), 409),
    (
        "PUT",
        f"/v1/staff/campaigns/{NO_ITEM}/bonus-tree",
        {"allocations": {ADDR: 5}, "rule": "matrix"},
        frozenset({"campaign_manager"}),
        200,
    ),
    ("POST", f"/v1/staff/campaigns/{NO_ITEM - 1}/bonus", None, frozenset({"campaign_manager"}), 404),
    ("POST", f"/v1/staff/campaigns/{NO_ITEM}/distribute", {"pool": 10}, frozenset({"campaign_manager"}), 404),
    (
        "PUT",
        f"/v1/staff/partners/{ADDR}",
        {"name": "p", "expiresAt": LATER},
        frozenset({"partner_manager"}),
        200,
    ),
    (
        "POST",
        f"/v1/staff/partners/{'0x' + '34' * 20}/renew",
        {"expiresAt": LATER},
        frozenset({"partner_manager"}),
        404,
    ),
    ("DELETE", f"/v1/staff/partners/{'0x' + '34' * 20}", None, frozenset({"partner_manager"}), 409),
    ("PUT", "/v1/staff/causes/77", {"name": "c", "wallet": ADDR}, frozenset({"partner_manager"}), 200),
    ("POST", "/v1/staff/causes/78/active", {"active": False}, frozenset({"partner_manager"}), 404),
    ("GET", "/v1/staff/policy", None, frozenset({"policy"}), 200),
    (
        "PUT",
        "/v1/staff/policy/reward",
        {"perKm": 10, "per100Grams": 5, "perAcceptedFeedback": 20},
        frozenset({"policy"}),
        200,
    ),
    (
        "PUT",
        "/v1/staff/policy/bounds",
        {
            "minDurationSeconds": 60,
            "maxDurationSeconds": 14_400,
            "maxDistanceMeters": 42_000,
            "maxSpeedCmPerSecond": 400,
            "maxTrashGrams": 20_000,
            "maxAgeSeconds": 30 * 86_400,
            "maxTrashGramsPerDay": 30_000,
            "maxSessionsPerDay": 20,
        },
        frozenset({"policy"}),
        200,
    ),
    (
        "PUT",
        "/v1/staff/policy/thresholds",
        {"maxDistanceMeters": 10_000, "maxTrashGrams": 1_000, "maxReward": 200},
        frozenset({"policy"}),
        200,
    ),
    (
        "PUT",
        "/v1/staff/policy/feedback-settings",
        {
            "supportThreshold": 50,
            "answerWindowSeconds": 86_400,
            "maxSubmissionsPerDay": 5,
            "maxSupportsPerDay": 50,
        },
        frozenset({"policy"}),
        200,
    ),
    ("PUT", "/v1/staff/policy/categories/99", {"name": "parks"}, frozenset({"policy"}), 200),
    ("POST", "/v1/staff/enrolments", ENROL, frozenset({"enroller"}), 200),
    ("POST", "/v1/staff/enrolments/bulk", BULK_ENROL, frozenset({"enroller"}), 200),
    ("POST", f"/v1/staff/enrolments/{ADDR}/withdraw", {"reasonCode": 1}, frozenset({"enroller"}), 409),
    ("POST", "/v1/staff/desk/actions", DESK_ACT, frozenset({"enroller"}), 503),
    ("GET", "/v1/staff/desk/actions", None, frozenset({"enroller", "auditor", "admin"}), 200),
    ("GET", "/v1/staff/log", None, frozenset({"auditor", "admin"}), 200),
    ("GET", "/v1/staff/privacy/erasures", None, frozenset({"auditor", "admin"}), 200),
    ("POST", "/v1/staff/privacy/erasures", {"resident": ADDR}, frozenset({"auditor", "admin"}), 201),
    ("GET", "/v1/staff/log.csv", None, frozenset({"auditor", "admin"}), 200),
    ("GET", "/v1/staff/members", None, frozenset({"admin"}), 200),
    ("POST", "/v1/staff/members", "NEW_MEMBER", frozenset({"admin"}), 201),
    ("GET", f"/v1/staff/members/{NO_ITEM}", None, frozenset({"admin"}), 404),
    ("PUT", f"/v1/staff/members/{NO_ITEM}/areas", {"areas": [1]}, frozenset({"admin"}), 404),
    ("POST", f"/v1/staff/members/{NO_ITEM}/deactivate", None, frozenset({"admin"}), 404),
    ("PUT", f"/v1/staff/members/{NO_ITEM}/roles/verifier", None, frozenset({"admin"}), 404),
    ("DELETE", f"/v1/staff/members/{NO_ITEM}/roles/verifier", None, frozenset({"admin"}), 404),
]


@pytest.fixture(scope="module")
def members(
    anvil: AnvilNode, data_dir: Path, settings: Settings, deployment: Deployment
) -> Iterator[dict[str, StaffMember]]:
    server = Server(rpc_url=anvil.url, data_dir=data_dir).start()
    by_role = {role: StaffMember(server) for role in (*ROLE_NAMES, ROLELESS)}
    invite(f"sqlite:///{data_dir / 'ledger.db'}", *by_role.values())
    deployer = Deployer(settings, deployment)
    for role in ROLE_NAMES:
        deployer.grant(role, by_role[role].address)
    for role, member in by_role.items():
        member.sign_in()
        if role != ROLELESS:
            wait_roles(member, {role})
    by_role[NOBODY] = StaffMember(server)  # never signs in
    yield by_role
    server.stop()


def _body(body: Any) -> Any:
    if body == "NEW_MEMBER":  # a fresh address every time (an address is a member once)
        return {"name": "new", "address": Account.create().address}
    return body


def test_every_staff_endpoint_for_every_role(members: dict[str, StaffMember]) -> None:
    assert members[ROLELESS].roles() == set()
    failures = []
    for method, path, body, allowed, ok in ENDPOINTS:
        for who, member in members.items():
            expected = 401 if who == NOBODY else ok if who in allowed else 403
            got = member.request(method, path, _body(body))
            if got.status_code != expected:
                failures.append(
                    f"{method} {path} as {who}: {got.status_code} (expected {expected}) {got.text[:200]}"
                )
            elif expected in (401, 403):
                assert error_of(got)["code"] in ("not_authenticated", "forbidden"), got.text
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_staff_route(members: dict[str, StaffMember]) -> None:
    spec = members[NOBODY].client.get("/openapi.json").json()
    staff_routes = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/v1/staff/") and path.split("/")[3] in {
            "plogging", "feedback", "campaigns", "partners", "causes", "policy", "log", "log.csv", "members",
            "enrolments", "privacy", "desk",
        }
    }  # fmt: skip
    covered = set()
    for method, path, *_ in ENDPOINTS:
        for template in staff_routes:
            if template[0] == method and _matches(template[1], path):
                covered.add(template)
    assert staff_routes == covered, staff_routes - covered
    for path, ops in spec["paths"].items():
        if (next(iter(ops)).upper(), path) in staff_routes:
            for op in ops.values():
                assert op.get("security"), f"{path} has no security requirement in the OpenAPI"
                assert {"401", "403", "422"} <= set(op["responses"]), path
    csv_route = spec["paths"]["/v1/staff/log.csv"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in csv_route


def _matches(template: str, path: str) -> bool:
    a, b = template.split("/"), path.split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b, strict=True))


def test_a_role_revoked_on_chain_loses_access(
    members: dict[str, StaffMember], settings: Settings, deployment: Deployment
) -> None:
    auditor = members["auditor"]
    assert auditor.request("GET", "/v1/staff/log").status_code == 200
    deployer = Deployer(settings, deployment)
    for contract, role_id in ROLE_GRANTS["auditor"]:
        deployer.send(contract, "revokeRole", bytes.fromhex(role_id[2:]), auditor.address)
    wait_until(
        lambda: auditor.request("GET", "/v1/staff/log").status_code == 403, 20, "the revocation to bite"
    )
    for contract, role_id in ROLE_GRANTS["auditor"]:  # put it back for any later test
        deployer.send(contract, "grantRole", bytes.fromhex(role_id[2:]), auditor.address)
    wait_roles(auditor, {"auditor"})
