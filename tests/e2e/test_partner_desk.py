"""The partner journey through HTTP on a real server and anvil: a partner manager issues a shop an API
key; a resident prepares and signs a redemption and shows it as a QR request; the shop previews and
accepts it; it is relayed and confirmed; the shop's redemptions and settlement show it and the
resident's balance dropped. Keys: scopes, revocation (refused at once), another partner's key, keys
issued and revoked with the CLI. A tampered request is refused and records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.partners import partner_app
from ledger.db import read_scope
from ledger.redemption_requests import decode, encode
from ledger.settings import get_settings
from ledger.staff.roles import ROLE_GRANTS

from ..support import Resident, error_of, wait_until
from .kinds_support import SESSION_REWARD, Stack, earn, resident_reads, signed, start_stack, token_balance
from .test_plogging_e2e import wait_final
from .test_staff_role_matrix import StaffMember, invite, wait_roles

OFFER = "0x" + "be" * 32
KEYS = "/v1/staff/partner-keys"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with start_stack("sqlite", tmp_path_factory.mktemp("partner-desk")) as s:
        yield s


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client() as c:
        yield c


@pytest.fixture(scope="module")
def manager(stack: Stack) -> StaffMember:
    """A wallet staff member holding partner_manager on chain, signed in."""
    member = StaffMember(stack.server)
    invite(f"sqlite:///{stack.server.data_dir / 'ledger.db'}", member)
    for contract, role_id in ROLE_GRANTS["partner_manager"]:
        stack.send(contract, "grantRole", bytes.fromhex(role_id[2:]), member.address)
    member.sign_in()
    wait_roles(member, {"partner_manager"})
    return member


def registered(stack: Stack) -> str:
    """A newly registered partner, once the mirror has it."""
    partner = stack.partner()
    with stack.client() as c:
        wait_until(
            lambda: any(
                p["address"] == partner for p in c.get("/v1/partners?active=true&limit=200").json()["items"]
            ),
            30,
            f"the mirror to list {partner}",
        )
    return partner


@pytest.fixture(scope="module")
def shop(stack: Stack) -> str:
    return registered(stack)


def issue(manager: StaffMember, partner: str, scopes: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {"partner": partner, "label": "Counter 1"}
    if scopes is not None:
        body["scopes"] = scopes
    r = manager.request("POST", KEYS, body)
    assert r.status_code == 201, r.text
    assert r.json()["secret"].startswith("esgp_" + r.json()["key"]["id"] + "_")
    return r.json()["secret"], r.json()["key"]


def as_key(key: str) -> dict[str, str]:
    return {"X-Partner-Key": key}


def qr_request(client: httpx.Client, resident: Resident, partner: str, amount: int) -> str:
    """The resident's side: prepare and sign a redemption, and get it as a QR request."""
    body = signed(client, resident, "redemption", {"partner": partner, "amount": amount, "offerHash": OFFER})
    r = client.post("/v1/redemption-requests", json=body)
    assert r.status_code == 200, r.text
    request: str = r.json()["request"]
    assert request.startswith("esg:redeem:v1:") and len(request) < 320
    return request


def actions_of(stack: Stack, resident: str) -> list[tuple[str, str]]:
    with read_scope(stack.engine) as session:
        rows = session.connection().execute(
            text("SELECT id, kind FROM action WHERE resident = :r ORDER BY created_at"), {"r": resident}
        )
        return [(str(i), str(k)) for i, k in rows]


def desk_rows(stack: Stack, action_id: str) -> int:
    with read_scope(stack.engine) as session:
        query = text("SELECT count(*) FROM partner_redemption WHERE action_id = :a")
        return int(session.connection().execute(query, {"a": action_id}).scalar_one())


def test_keys_are_issued_by_partner_managers_for_registered_partners(
    stack: Stack, manager: StaffMember, shop: str, client: httpx.Client
) -> None:
    nobody = client.post(KEYS, json={"partner": shop, "label": "x"})
    assert nobody.status_code == 401, nobody.text
    stranger = Resident().address
    refused = manager.request("POST", KEYS, {"partner": stranger, "label": "x"})
    assert refused.status_code == 422, refused.text
    assert (error_of(refused)["code"], error_of(refused)["field"]) == ("partner_not_registered", "partner")
    bad_scope = manager.request("POST", KEYS, {"partner": shop, "label": "x", "scopes": ["admin"]})
    assert bad_scope.status_code == 422 and error_of(bad_scope)["field"].startswith("scopes"), bad_scope.text
    listed = manager.request("GET", f"{KEYS}?partner={stranger}").json()
    assert listed == {"items": [], "total": 0}

    _, key = issue(manager, shop)
    assert key["scopes"] == ["redemptions:accept", "redemptions:read"] and key["createdBy"] == manager.address
    page = manager.request("GET", f"{KEYS}?partner={shop}&revoked=false").json()
    assert key["id"] in [k["id"] for k in page["items"]]
    assert all("secret" not in k and "secretHash" not in k for k in page["items"])


def test_scopes_and_revocation(stack: Stack, manager: StaffMember, shop: str, client: httpx.Client) -> None:
    reader, key = issue(manager, shop, ["redemptions:read"])
    assert client.get("/v1/partner/redemptions", headers=as_key(reader)).status_code == 200
    me = client.get("/v1/partner/me", headers=as_key(reader))
    assert me.status_code == 200 and me.json()["address"] == shop and me.json()["key"]["id"] == key["id"]
    assert me.json()["key"]["lastUsedAt"] is not None
    scoped = client.post(
        "/v1/partner/redemptions", json={"request": "esg:redeem:v1:AAAA"}, headers=as_key(reader)
    )
    assert scoped.status_code == 403 and error_of(scoped)["code"] == "insufficient_scope", scoped.text

    for headers, code in (({}, "not_authenticated"), (as_key("esgp_nope"), "partner_key_invalid")):
        r = client.get("/v1/partner/me", headers=headers)
        assert r.status_code == 401 and error_of(r)["code"] == code, r.text
    wrong_secret = reader[:-4] + ("AAAA" if not reader.endswith("AAAA") else "BBBB")
    r = client.get("/v1/partner/me", headers=as_key(wrong_secret))
    assert r.status_code == 401 and error_of(r)["code"] == "partner_key_invalid", r.text

    revoked = manager.request("POST", f"{KEYS}/{key['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revokedBy"] == manager.address, revoked.text
    r = client.get("/v1/partner/redemptions", headers=as_key(reader))
    assert r.status_code == 401 and error_of(r)["code"] == "partner_key_revoked", r.text
    again = manager.request("POST", f"{KEYS}/{key['id']}/revoke")
    assert again.status_code == 409 and error_of(again)["code"] == "partner_key_conflict", again.text
    assert manager.request("POST", f"{KEYS}/{'0' * 16}/revoke").status_code == 404


def test_the_partner_journey_end_to_end(
    stack: Stack, manager: StaffMember, shop: str, client: httpx.Client
) -> None:
    key, key_info = issue(manager, shop)
    resident = Resident()
    earned = earn(stack, client, resident)
    assert earned == SESSION_REWARD
    wait_until(lambda: token_balance(stack, resident.address) == earned, 30, "the points")
    first = qr_request(client, resident, shop, 30)
    second = qr_request(client, resident, shop, 30)  # both fit the balance now; only one will

    seen = client.post("/v1/partner/redemptions/preview", json={"request": first}, headers=as_key(key))
    assert seen.status_code == 200, seen.text
    preview = seen.json()
    assert (preview["resident"], preview["partner"], preview["amount"], preview["offerHash"]) == (
        resident.address,
        shop,
        30,
        OFFER,
    )
    assert preview["balance"] == earned and preview["acceptable"] is True and preview["action"] is None
    assert {k for _, k in actions_of(stack, resident.address)} == {"plogging"}  # a preview records nothing

    accepted = client.post("/v1/partner/redemptions", json={"request": first}, headers=as_key(key))
    assert accepted.status_code == 202, accepted.text
    action_id = accepted.json()["id"]
    assert action_id == preview["id"] and accepted.json()["status"] == "queued"
    twice = client.post("/v1/partner/redemptions", json={"request": first}, headers=as_key(key))
    assert twice.status_code == 202 and twice.json()["id"] == action_id, twice.text
    assert [a for a, k in actions_of(stack, resident.address) if k == "redemption"] == [action_id]
    assert desk_rows(stack, action_id) == 1

    status = wait_final(client, action_id)
    assert status["status"] == "confirmed", status
    assert stack.recorded("redemption", status)["partner"] == shop

    def listed() -> dict[str, Any] | None:
        r = client.get("/v1/partner/redemptions?status=confirmed", headers=as_key(key))
        assert r.status_code == 200, r.text
        items = [i for i in r.json()["items"] if i["id"] == action_id]
        return items[0] if items and items[0]["burned"] is not None else None  # burned: mirrored

    item = wait_until(listed, 30, "the mirror's record of the redemption")
    assert (item["resident"], item["amount"], item["offerHash"], item["keyId"]) == (
        resident.address,
        30,
        OFFER,
        key_info["id"],
    )
    assert (item["txHash"], item["blockNumber"], item["logIndex"]) == (
        status["txHash"],
        status["blockNumber"],
        status["logIndex"],
    )
    settlement = client.get("/v1/partner/settlement", headers=as_key(key)).json()
    assert settlement["confirmed"]["count"] >= 1 and settlement["confirmed"]["amount"] >= 30
    assert sum(d["confirmed"]["amount"] for d in settlement["days"]) == settlement["confirmed"]["amount"]
    later = client.get("/v1/partner/settlement?from=4102444800", headers=as_key(key)).json()  # 2100
    assert later["confirmed"] == {"count": 0, "amount": 0} and later["days"] == []
    body = resident_reads(client, resident.address, lambda b: b["redeemed"] == 30, "the redemption")
    assert body["balance"] == earned - 30 == token_balance(stack, resident.address)

    # the second request no longer fits the balance: the preview says why, and accepting refuses it
    late = client.post(
        "/v1/partner/redemptions/preview", json={"request": second}, headers=as_key(key)
    ).json()
    assert late["acceptable"] is False and late["balance"] == earned - 30
    assert (late["refusal"]["code"], late["refusal"]["field"]) == ("redemption_refused", "request.amount")
    refused = client.post("/v1/partner/redemptions", json={"request": second}, headers=as_key(key))
    assert refused.status_code == 422 and error_of(refused)["field"] == "request.amount", refused.text
    assert [a for a, k in actions_of(stack, resident.address) if k == "redemption"] == [action_id]


def test_another_partners_key_and_a_tampered_request_record_nothing(
    stack: Stack, manager: StaffMember, shop: str, client: httpx.Client
) -> None:
    other_key, _ = issue(manager, registered(stack))
    key, _ = issue(manager, shop)
    resident = Resident()
    earn(stack, client, resident)
    request = qr_request(client, resident, shop, 10)
    before = actions_of(stack, resident.address)

    for path in ("/v1/partner/redemptions/preview", "/v1/partner/redemptions"):
        r = client.post(path, json={"request": request}, headers=as_key(other_key))
        assert r.status_code == 403, r.text
        assert (error_of(r)["code"], error_of(r)["field"]) == ("wrong_partner", "request.partner")

    decoded = decode(request)
    typed = decoded.typed_data()
    forged = encode({**typed, "message": {**typed["message"], "amount": 11}}, decoded.signature)
    for path in ("/v1/partner/redemptions/preview", "/v1/partner/redemptions"):
        r = client.post(path, json={"request": forged}, headers=as_key(key))
        assert r.status_code == 422, r.text
        assert (error_of(r)["code"], error_of(r)["field"]) == ("invalid_signature", "request.signature")
    garbled = client.post("/v1/partner/redemptions", json={"request": request[:-8]}, headers=as_key(key))
    assert garbled.status_code == 422 and error_of(garbled)["field"].startswith("request"), garbled.text
    assert actions_of(stack, resident.address) == before
    assert desk_rows(stack, _digest(client, request, key)) == 0


def _digest(client: httpx.Client, request: str, key: str) -> str:
    preview = client.post("/v1/partner/redemptions/preview", json={"request": request}, headers=as_key(key))
    assert preview.status_code == 200 and preview.json()["action"] is None, preview.text
    digest: str = preview.json()["id"]
    return digest


def test_keys_issued_and_revoked_with_the_cli(
    stack: Stack, shop: str, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESG_ENV", "test")
    monkeypatch.setenv("ESG_DATA_DIR", str(stack.server.data_dir))
    monkeypatch.delenv("ESG_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        unknown = runner.invoke(
            partner_app, ["key", "issue", "--partner", Resident().address, "--label", "x"]
        )
        assert unknown.exit_code == 1 and "not a registered partner" in unknown.output, unknown.output
        issued = runner.invoke(
            partner_app, ["key", "issue", "--partner", shop, "--label", "Till", "--scope", "redemptions:read"]
        )
        assert issued.exit_code == 0, issued.output
        secret = issued.output.strip().splitlines()[-1]
        key_id = secret.split("_")[1]
        me = client.get("/v1/partner/me", headers=as_key(secret))
        assert me.status_code == 200 and me.json()["key"]["createdBy"] == "cli", me.text
        listed = runner.invoke(partner_app, ["key", "list", "--partner", shop])
        assert listed.exit_code == 0 and key_id in listed.output and secret not in listed.output
        assert runner.invoke(partner_app, ["key", "revoke", key_id]).exit_code == 0
        r = client.get("/v1/partner/me", headers=as_key(secret))
        assert r.status_code == 401 and error_of(r)["code"] == "partner_key_revoked", r.text
        assert runner.invoke(partner_app, ["key", "revoke", key_id]).exit_code == 1
    finally:
        get_settings.cache_clear()
