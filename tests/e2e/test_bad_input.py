"""Bad input gets a 4xx JSON error that names the problem, and records nothing."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ..support import Resident, Server, error_of, plogging_payload


def prepared(client: httpx.Client, resident: Resident, **overrides: Any) -> dict[str, Any]:
    r = client.post(
        "/v1/actions/prepare",
        json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload(**overrides)},
    )
    assert r.status_code == 200, r.text
    return r.json()["typedData"]  # type: ignore[no-any-return]


def tampered_signature(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    sig = bytearray.fromhex(resident.sign(typed)[2:])
    sig[10] ^= 0x01
    return {"typedData": typed, "signature": "0x" + sig.hex()}


def other_key(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    return {"typedData": typed, "signature": Resident().sign(typed)}


def altered_after_signing(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    signature = resident.sign(typed)
    changed = copy.deepcopy(typed)
    changed["message"]["trashGrams"] += 1000
    return {"typedData": changed, "signature": signature}


def other_chain(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    changed = copy.deepcopy(typed)
    changed["domain"]["chainId"] = 1
    return {"typedData": changed, "signature": resident.sign(changed)}


def other_contract(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    changed = copy.deepcopy(typed)
    changed["domain"]["verifyingContract"] = "0x000000000000000000000000000000000000dEaD"
    return {"typedData": changed, "signature": resident.sign(changed)}


def message_missing_nonce(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    changed = copy.deepcopy(typed)
    del changed["message"]["nonce"]
    return {"typedData": changed, "signature": "0x" + "11" * 65}


def message_out_of_range(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    changed = copy.deepcopy(typed)
    changed["message"]["distanceMeters"] = 2**32
    return {"typedData": changed, "signature": "0x" + "11" * 65}


def signature_not_hex(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    return {"typedData": typed, "signature": "0xzz"}


def no_signature(typed: dict[str, Any], resident: Resident) -> dict[str, Any]:
    return {"typedData": typed}


SUBMISSIONS: dict[str, tuple[Callable[[dict[str, Any], Resident], dict[str, Any]], int, str, str]] = {
    "tampered signature": (tampered_signature, 422, "invalid_signature", "signature"),
    "signature by another key": (other_key, 422, "invalid_signature", "signature"),
    "message altered after signing": (altered_after_signing, 422, "invalid_signature", "signature"),
    "typed data for another chain id": (other_chain, 422, "invalid_action", "typedData.domain.chainId"),
    "typed data for another contract": (
        other_contract,
        422,
        "invalid_action",
        "typedData.domain.verifyingContract",
    ),
    "message without a nonce": (message_missing_nonce, 422, "invalid_action", "typedData.message.nonce"),
    "distance above uint32": (
        message_out_of_range,
        422,
        "invalid_action",
        "typedData.message.distanceMeters",
    ),
    "signature not hex": (signature_not_hex, 422, "invalid_action", "signature"),
    "no signature": (no_signature, 422, "invalid_request", "signature"),
}


def recorded(db: sqlite3.Connection) -> tuple[int, int]:
    return db.execute("SELECT count(*) FROM action").fetchone()[0], db.execute(
        "SELECT count(*) FROM relay_tx"
    ).fetchone()[0]


@pytest.mark.parametrize("case", list(SUBMISSIONS))
def test_bad_submission_is_refused_and_records_nothing(
    server: Server, db: sqlite3.Connection, case: str
) -> None:
    build, status, code, field = SUBMISSIONS[case]
    client = server.client()
    resident = Resident()
    body = build(prepared(client, resident), resident)
    before = recorded(db)
    r = client.post("/v1/actions", json=body)
    assert r.status_code == status, r.text
    error = error_of(r)
    assert (error["code"], error["field"]) == (code, field), error
    assert error["message"]
    assert recorded(db) == before
    assert client.get(f"/v1/residents/{resident.address}").json()["actions"] == {}


PREPARES: dict[str, tuple[dict[str, Any], str]] = {
    "missing trashGrams": (
        {"payload": {k: v for k, v in plogging_payload().items() if k != "trashGrams"}},
        "payload.trashGrams",
    ),
    "negative distance": ({"payload": plogging_payload(distanceMeters=-1)}, "payload.distanceMeters"),
    "duration above uint32": (
        {"payload": plogging_payload(durationSeconds=2**32)},
        "payload.durationSeconds",
    ),
    "distance as a float": ({"payload": plogging_payload(distanceMeters=12.5)}, "payload.distanceMeters"),
    "short evidence hash": ({"payload": plogging_payload(evidenceHash="0x1234")}, "payload.evidenceHash"),
    "unknown payload field": ({"payload": {**plogging_payload(), "calories": 300}}, "payload.calories"),
    "session in the future": ({"payload": plogging_payload(startedAt=2**40)}, "payload.startedAt"),
    "bad resident": ({"resident": "0x1234"}, "resident"),
    "unknown kind": ({"kind": "teleport"}, "kind"),
}


@pytest.mark.parametrize("case", list(PREPARES))
def test_bad_prepare_is_refused_and_records_nothing(
    server: Server, db: sqlite3.Connection, case: str
) -> None:
    change, field = PREPARES[case]
    body = {"kind": "plogging", "resident": Resident().address, "payload": plogging_payload(), **change}
    before = db.execute("SELECT count(*) FROM resident_nonce").fetchone()
    r = server.client().post("/v1/actions/prepare", json=body)
    # a session that has not ended is well formed: refused for now (409), not malformed (422)
    assert r.status_code == (409 if case == "session in the future" else 422), r.text
    assert error_of(r)["field"] == field, r.json()
    assert db.execute("SELECT count(*) FROM resident_nonce").fetchone() == before


@pytest.mark.parametrize("path", ["/v1/actions", "/v1/actions/prepare"])
def test_malformed_json_is_a_400(server: Server, db: sqlite3.Connection, path: str) -> None:
    before = recorded(db)
    r = httpx.post(
        server.url + path, content=b'{"typedData": {', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert error_of(r)["code"] == "malformed_json"
    assert recorded(db) == before


def test_unknown_action_is_a_404_and_bad_id_a_422(server: Server) -> None:
    client = server.client()
    missing = client.get("/v1/actions/0x" + "00" * 32)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    bad = client.get("/v1/actions/not-a-digest")
    assert bad.status_code == 422 and error_of(bad)["field"] == "path.action_id"
