"""Every action kind end to end over HTTP, on SQLite and on PostgreSQL: prepare → sign → submit →
relayer → chain (the kind's recorded event in the transaction's receipt) → SQL mirror → reads.
Then all kinds from several residents at once through /v1/actions/batch, and custodial residents
acting on kinds other than plogging."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.kinds import KINDS

from ..support import Resident, error_of, plogging_payload, wait_until
from .kinds_support import (
    AUTH,
    SESSION_REWARD,
    Stack,
    act,
    earn,
    resident_reads,
    signed,
    start_stack,
    submit,
    token_balance,
)
from .test_plogging_e2e import wait_final

OPINION = "하천 산책로에 벤치를 놓아 주세요. Benches along the river path, please."
OFFER = "0x" + "c0ffee" * 10 + "0000"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One chain, deployment and server per database, shared by the module's tests."""
    run_dir = tmp_path_factory.mktemp(f"kinds-{request.param}")
    with start_stack(request.param, run_dir, postgres=lambda: request.getfixturevalue("postgres")) as s:
        yield s


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client() as c:
        yield c


def assert_event_carries(kind: str, event: dict[str, Any], message: dict[str, Any], action_id: str) -> None:
    """The recorded event repeats the signed fields it carries, and the action's digest."""
    assert "0x" + event["digest"].hex().removeprefix("0x") == action_id
    carried = [name for name, _ in KINDS[kind].eip712.fields if name in event and name != "deadline"]
    assert "resident" in carried and len(carried) >= 3, carried  # BonusClaimed has no nonce
    for name in carried:
        value = event[name]
        got = "0x" + value.hex().removeprefix("0x") if isinstance(value, bytes) else value
        assert got == message[name], (kind, name, got, message[name])


def feedback_payload(**overrides: Any) -> dict[str, Any]:
    return {"category": "environment", "content": OPINION, "areaCode": 41117, **overrides}


def feedback_item(client: httpx.Client, item_id: int, until: Any = lambda body: True) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        r = client.get(f"/v1/feedback/{item_id}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body if until(body) else None

    return wait_until(read, 30, f"feedback item {item_id} in the mirror")  # type: ignore[no-any-return]


def submit_feedback(stack: Stack, client: httpx.Client, resident: Resident) -> tuple[dict[str, Any], int]:
    message, status = act(client, resident, "feedback", feedback_payload())
    event = stack.recorded("feedback", status)
    return message, int(event["itemId"])


# --- one kind at a time


def test_plogging(stack: Stack, client: httpx.Client) -> None:
    resident = Resident()
    message, status = act(client, resident, "plogging", plogging_payload())
    event = stack.recorded("plogging", status)
    assert_event_carries("plogging", event, message, status["id"])
    assert event["reward"] == SESSION_REWARD

    row = stack.mirror_row("plogging", status["id"])
    assert (row["resident"], row["trash_grams"], row["distance_meters"]) == (
        resident.address,
        message["trashGrams"],
        message["distanceMeters"],
    )
    assert (row["block_number"], row["log_index"]) == (status["blockNumber"], status["logIndex"])
    body = resident_reads(client, resident.address, lambda b: b["plogging"]["sessions"] == 1, "the session")
    assert body["plogging"] == {
        "sessions": 1,
        "trashGrams": message["trashGrams"],
        "distanceMeters": message["distanceMeters"],
    }
    assert body["balance"] == SESSION_REWARD == token_balance(stack, resident.address)


def test_feedback(stack: Stack, client: httpx.Client) -> None:
    resident = Resident()
    message, status = act(client, resident, "feedback", feedback_payload())
    event = stack.recorded("feedback", status)
    assert_event_carries("feedback", event, message, status["id"])
    assert (event["category"], event["areaCode"]) == (1, 41117)  # "environment" is category 1
    item_id = int(event["itemId"])

    row = stack.mirror_row("feedback", status["id"])
    assert (row["item_id"], row["resident"], row["content_hash"]) == (
        item_id,
        resident.address,
        message["contentHash"],
    )
    body = resident_reads(client, resident.address, lambda b: b["feedback"]["submitted"] == 1, "the item")
    assert body["feedback"] == {"submitted": 1, "supported": 0}
    item = feedback_item(client, item_id)
    assert (item["id"], item["resident"], item["status"], item["supports"]) == (
        item_id,
        resident.address,
        "submitted",
        0,
    )
    assert (item["digest"], item["content"], item["contentHash"]) == (
        status["id"],
        OPINION,
        message["contentHash"],
    )


def test_support(stack: Stack, client: httpx.Client) -> None:
    author, supporter = Resident(), Resident()
    _, item_id = submit_feedback(stack, client, author)
    message, status = act(client, supporter, "support", {"itemId": item_id})
    event = stack.recorded("support", status)
    assert_event_carries("support", event, message, status["id"])
    assert event["supportCount"] == 1

    row = stack.mirror_row("support", status["id"])
    assert (row["item_id"], row["resident"], row["support_count"]) == (item_id, supporter.address, 1)
    body = resident_reads(client, supporter.address, lambda b: b["feedback"]["supported"] == 1, "support")
    assert body["feedback"] == {"submitted": 0, "supported": 1}
    assert [s["itemId"] for s in body["recent"]["supports"]] == [item_id]
    item = feedback_item(client, item_id, lambda b: b["supports"] == 1)
    assert [s["resident"] for s in item["supporters"]["items"]] == [supporter.address]
    # once per item: a second support is refused at prepare, naming the field
    again = client.post(
        "/v1/actions/prepare",
        json={"kind": "support", "resident": supporter.address, "payload": {"itemId": item_id}},
    )
    assert again.status_code == 409 and error_of(again)["field"] == "payload.itemId", again.text


def test_redemption(stack: Stack, client: httpx.Client) -> None:
    resident = Resident()
    earned = earn(stack, client, resident)
    partner = stack.partner()
    message, status = act(
        client, resident, "redemption", {"partner": partner, "amount": 20, "offerHash": OFFER}
    )
    assert (message["partner"], message["amount"], message["offerHash"]) == (partner, 20, OFFER)
    event = stack.recorded("redemption", status)
    assert_event_carries("redemption", event, message, status["id"])
    assert event["burned"] is False  # this partner takes the points

    row = stack.mirror_row("redemption", status["id"])
    assert (row["resident"], row["partner"], int(row["amount"])) == (resident.address, partner, 20)
    body = resident_reads(client, resident.address, lambda b: b["redeemed"] == 20, "the redemption")
    assert body["balance"] == earned - 20 == token_balance(stack, resident.address)
    assert [r["digest"] for r in body["recent"]["redemptions"]] == [status["id"]]
    shop = resident_reads(client, partner, lambda b: b["balance"] == 20, "the partner's balance")
    assert shop["balance"] == token_balance(stack, partner)


def test_donation(stack: Stack, client: httpx.Client) -> None:
    resident = Resident()
    earned = earn(stack, client, resident)
    cause_id, wallet = stack.cause()
    message, status = act(client, resident, "donation", {"causeId": cause_id, "amount": 15})
    event = stack.recorded("donation", status)
    assert_event_carries("donation", event, message, status["id"])
    assert event["wallet"] == wallet

    row = stack.mirror_row("donation", status["id"])
    assert (row["resident"], row["cause_id"], row["wallet"], int(row["amount"])) == (
        resident.address,
        cause_id,
        wallet,
        15,
    )
    body = resident_reads(client, resident.address, lambda b: b["donated"] == 15, "the donation")
    assert body["balance"] == earned - 15 == token_balance(stack, resident.address)
    assert body["redeemed"] == 0
    cause = resident_reads(client, wallet, lambda b: b["balance"] == 15, "the cause wallet's balance")
    assert cause["balance"] == token_balance(stack, wallet)


def test_claim(stack: Stack, client: httpx.Client) -> None:
    resident, neighbour, outsider = Resident(), Resident(), Resident()
    campaign_id = stack.campaign({resident.address: 40, neighbour.address.lower(): 7})
    message, status = act(client, resident, "claim", {"campaignId": campaign_id})
    assert (message["campaignId"], message["amount"]) == (campaign_id, 40)  # the amount is the tree's
    event = stack.recorded("claim", status)
    assert_event_carries("claim", event, message, status["id"])

    row = stack.mirror_row("claim", status["id"])
    assert (row["resident"], row["campaign_id"], int(row["amount"])) == (resident.address, campaign_id, 40)
    body = resident_reads(client, resident.address, lambda b: b["claimed"] == 40, "the claim")
    assert body["balance"] == 40 == token_balance(stack, resident.address)
    assert [c["campaignId"] for c in body["recent"]["claims"]] == [campaign_id]

    def prepare_claim(who: Resident) -> httpx.Response:
        return client.post(
            "/v1/actions/prepare",
            json={"kind": "claim", "resident": who.address, "payload": {"campaignId": campaign_id}},
        )

    for who in (resident, outsider):  # once only; and only residents the tree gives something
        refused = prepare_claim(who)
        assert refused.status_code == 409, refused.text
        assert error_of(refused)["field"] == "payload.campaignId"
    # a claim signed for more than the tree gives is refused at submit, naming the amount
    typed = prepare_claim(neighbour).json()["typedData"]
    assert typed["message"]["amount"] == 7
    greedy = {**typed, "message": {**typed["message"], "amount": 8}}
    refused = client.post("/v1/actions", json={"typedData": greedy, "signature": neighbour.sign(greedy)})
    assert refused.status_code == 409, refused.text
    assert error_of(refused)["field"] == "typedData.message.amount"
    honest = submit(client, {"typedData": typed, "signature": neighbour.sign(typed)})
    assert stack.recorded("claim", wait_final(client, honest))["amount"] == 7


# --- all kinds at once


def test_all_kinds_from_several_residents_in_one_batch(stack: Stack, client: httpx.Client) -> None:
    residents = [Resident() for _ in range(4)]
    # first what the others need: points, and feedback items to support
    first = [signed(client, r, "plogging", plogging_payload()) for r in residents]
    first += [signed(client, r, "feedback", feedback_payload()) for r in residents]
    reply = client.post("/v1/actions/batch", json={"actions": first})
    assert reply.status_code == 202, reply.text
    statuses = [wait_final(client, result["id"]) for result in reply.json()["results"]]
    assert [s["status"] for s in statuses] == ["confirmed"] * len(first), statuses
    items = [int(stack.recorded("feedback", s)["itemId"]) for s in statuses[len(residents) :]]

    partner = stack.partner(burn=True)
    cause_id, _ = stack.cause()
    bonus = {r.address: 11 + i for i, r in enumerate(residents)}
    campaign_id = stack.campaign(bonus)
    actions: list[tuple[str, Resident, dict[str, Any]]] = []
    for i, r in enumerate(residents):
        actions += [
            ("plogging", r, plogging_payload()),
            ("feedback", r, feedback_payload(areaCode=i)),
            ("support", r, {"itemId": items[(i + 1) % len(residents)]}),
            ("redemption", r, {"partner": partner, "amount": 5, "offerHash": OFFER}),
            ("donation", r, {"causeId": cause_id, "amount": 3}),
            ("claim", r, {"campaignId": campaign_id}),
        ]
    random.Random(7).shuffle(actions)
    bodies = [signed(client, r, kind, payload) for kind, r, payload in actions]
    reply = client.post("/v1/actions/batch", json={"actions": bodies})
    assert reply.status_code == 202, reply.text
    results = reply.json()["results"]
    assert all(r.get("status") == "queued" for r in results), results
    statuses = [wait_final(client, result["id"]) for result in results]
    assert [(s["kind"], s["status"]) for s in statuses] == [(k, "confirmed") for k, _, _ in actions]
    for (kind, _, _), status in zip(actions, statuses, strict=True):
        stack.recorded(kind, status)

    def reads() -> list[dict[str, Any]] | None:
        bodies = [client.get(f"/v1/residents/{r.address}").json() for r in residents]
        settled = all(b["claimed"] == bonus[b["address"]] and b["feedback"]["supported"] for b in bodies)
        return bodies if settled else None

    for r, body in zip(residents, wait_until(reads, 30, "the mirror to hold every record"), strict=True):
        expected_balance = 2 * SESSION_REWARD - 5 - 3 + bonus[r.address]
        assert body["plogging"]["sessions"] == 2
        assert body["feedback"] == {"submitted": 2, "supported": 1}
        assert (body["redeemed"], body["donated"]) == (5, 3)
        assert body["balance"] == expected_balance == token_balance(stack, r.address)
        assert body["actions"] == {"confirmed": 8}
    for item_id in items:
        assert feedback_item(client, item_id, lambda b: b["supports"] == 1)["supports"] == 1


# --- custodial residents


def test_custodial_resident_gives_feedback_donates_and_claims(stack: Stack, client: httpx.Client) -> None:
    subject = "desk-visitor-" + Resident().address[2:10]
    created = client.post("/v1/custody/wallets", json={"subject": subject}, headers=AUTH)
    assert created.status_code == 201, created.text
    address = created.json()["address"]
    cause_id, wallet = stack.cause()

    def custodial(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        r = client.post(
            "/v1/custody/actions", json={"subject": subject, "kind": kind, "payload": payload}, headers=AUTH
        )
        assert r.status_code == 202, r.text
        status = wait_final(client, r.json()["id"])
        assert (status["kind"], status["status"]) == (kind, "confirmed"), status
        return status

    feedback = custodial("feedback", feedback_payload())
    assert stack.recorded("feedback", feedback)["resident"] == address
    custodial("plogging", plogging_payload())
    donation = custodial("donation", {"causeId": cause_id, "amount": 10})
    event = stack.recorded("donation", donation)
    assert (event["resident"], event["causeId"], event["wallet"], event["amount"]) == (
        address,
        cause_id,
        wallet,
        10,
    )
    campaign_id = stack.campaign({address: 9})
    claim = custodial("claim", {"campaignId": campaign_id})  # the proof is attached as for any claim
    assert stack.recorded("claim", claim)["amount"] == 9
    body = resident_reads(client, address, lambda b: b["claimed"] == 9, "the custodial claim")
    assert (body["feedback"]["submitted"], body["donated"]) == (1, 10)
    assert body["balance"] == SESSION_REWARD - 10 + 9 == token_balance(stack, address)
    # custody refuses what intake refuses, naming the field
    too_much = client.post(
        "/v1/custody/actions",
        json={"subject": subject, "kind": "donation", "payload": {"causeId": cause_id, "amount": 10**6}},
        headers=AUTH,
    )
    assert too_much.status_code == 409, too_much.text
    assert error_of(too_much)["field"] == "payload.amount"


def test_custody_refuses_a_subject_with_control_characters(stack: Stack) -> None:
    headers = {"content-type": "application/json", **AUTH}
    requests: list[tuple[str, dict[str, Any], bool]] = [  # (path, body, must name the subject)
        ("/v1/custody/wallets", {"subject": "desk\u0000visitor"}, True),
        (
            "/v1/custody/actions",
            {"subject": "desk\u0000visitor", "kind": "feedback", "payload": feedback_payload()},
            True,
        ),
        ("/v1/custody/wallets/desk%00visitor/export", {"password": "a long passphrase"}, False),
    ]
    problems = []
    for path, body, names_subject in requests:
        with stack.client() as client:  # a fresh connection each: a 500 closes it
            r = client.post(path, content=json.dumps(body).encode(), headers=headers)
        refused = 400 <= r.status_code < 500
        named = refused and error_of(r)["field"] == "subject"
        if not refused or (names_subject and not named):
            problems.append(f"{path}: {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)
