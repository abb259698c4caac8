"""A resident's plogging session, end to end: prepare → sign → submit → chain → SQL mirror → API."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from web3 import Web3
from web3.logs import DISCARD

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server, plogging_payload, wait_until


def submit_signed(
    client: httpx.Client, resident: Resident, **overrides: Any
) -> tuple[dict[str, Any], str, str]:
    prepared = client.post(
        "/v1/actions/prepare",
        json={"kind": "plogging", "resident": resident.address, "payload": plogging_payload(**overrides)},
    )
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typedData"]
    signature = resident.sign(typed)
    accepted = client.post("/v1/actions", json={"typedData": typed, "signature": signature})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "queued"
    return typed, signature, accepted.json()["id"]


def wait_final(client: httpx.Client, action_id: str, timeout: float = 30) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/v1/actions/{action_id}").json()
        return body if body["status"] in ("confirmed", "failed") else None

    return wait_until(final, timeout, f"action {action_id} to settle")  # type: ignore[no-any-return]


def test_round_trip_reaches_chain_and_mirror(
    server: Server, anvil: AnvilNode, deployment: Deployment, db: sqlite3.Connection
) -> None:
    client = server.client()
    resident = Resident()
    typed, _, action_id = submit_signed(client, resident)
    assert typed["primaryType"] == "PloggingSession"
    assert typed["domain"]["chainId"] == deployment.chain_id
    assert {"EIP712Domain", "PloggingSession"} == set(typed["types"])

    status = wait_final(client, action_id)
    assert status["status"] == "confirmed", status
    assert status["error"] is None

    # The receipt's log, decoded by web3 from the ABI, carries exactly the signed values.
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    registry = w3.eth.contract(
        address=deployment.address("PloggingRegistry"), abi=deployment.contracts["PloggingRegistry"].abi
    )
    receipt = w3.eth.get_transaction_receipt(status["txHash"])
    assert receipt["blockNumber"] == status["blockNumber"]
    (event,) = [
        e
        for e in registry.events.PloggingRecorded().process_receipt(receipt, errors=DISCARD)
        if e["logIndex"] == status["logIndex"]
    ]
    message = typed["message"]
    assert "0x" + event["args"]["digest"].hex() == action_id
    assert event["args"]["resident"] == resident.address
    for field in ("nonce", "distanceMeters", "durationSeconds", "trashGrams", "areaCode", "startedAt"):
        assert event["args"][field] == message[field], field
    assert "0x" + event["args"]["evidenceHash"].hex() == message["evidenceHash"]
    expected_reward = message["distanceMeters"] * 10 // 1000 + message["trashGrams"] * 5 // 100
    assert event["args"]["reward"] == expected_reward

    # The SQL mirror has the session, and the resident endpoint reports it.
    def mirrored() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/v1/residents/{resident.address}").json()
        return body if body["plogging"]["sessions"] == 1 else None

    body = wait_until(mirrored, 15, "the mirror to show the session")
    assert body["plogging"] == {
        "sessions": 1,
        "trashGrams": message["trashGrams"],
        "distanceMeters": message["distanceMeters"],
    }
    token = w3.eth.contract(
        address=deployment.address("ParticipationToken"), abi=deployment.contracts["ParticipationToken"].abi
    )
    assert body["balance"] == expected_reward == token.functions.balanceOf(resident.address).call()
    row = db.execute(
        "SELECT resident, trash_grams, distance_meters, block_number, log_index "
        "FROM plogging_session WHERE digest = ?",
        (action_id,),
    ).fetchall()
    assert row == [
        (
            resident.address,
            message["trashGrams"],
            message["distanceMeters"],
            status["blockNumber"],
            status["logIndex"],
        )
    ]


def test_same_signed_action_twice_is_recorded_once(
    server: Server, anvil: AnvilNode, deployment: Deployment, db: sqlite3.Connection
) -> None:
    client = server.client()
    resident = Resident()
    typed, signature, first_id = submit_signed(client, resident)
    again = client.post("/v1/actions", json={"typedData": typed, "signature": signature})
    assert again.status_code == 202
    assert again.json()["id"] == first_id
    assert wait_final(client, first_id)["status"] == "confirmed"
    # once more after confirmation: same id, still one record
    late = client.post("/v1/actions", json={"typedData": typed, "signature": signature})
    assert late.json() == {"id": first_id, "status": "confirmed"}

    assert db.execute("SELECT count(*) FROM action WHERE id = ?", (first_id,)).fetchone() == (1,)
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    logs = w3.eth.get_logs(
        {
            "address": deployment.address("PloggingRegistry"),
            "fromBlock": deployment.start_block,
            "topics": [None, first_id],
        }
    )
    assert len(logs) == 1
    wait_until(
        lambda: (
            db.execute("SELECT count(*) FROM plogging_session WHERE digest = ?", (first_id,)).fetchone()
            == (1,)
        ),
        15,
        "the mirror to hold the record once",
    )


def test_implausible_session_fails_on_chain_with_its_reason(server: Server) -> None:
    client = server.client()
    resident = Resident()
    # 20 km in 30 minutes is 40 km/h: above the 21.6 km/h bound the contract enforces.
    _, _, action_id = submit_signed(client, resident, distanceMeters=20_000, durationSeconds=1800)
    status = wait_final(client, action_id)
    assert status["status"] == "failed"
    assert status["error"].startswith("PloggingRegistryTooFast(")
    assert "distanceMeters=20000" in status["error"]


def test_indexer_status_and_health_report_the_mirror(server: Server) -> None:
    client = server.client()

    def caught_up() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get("/v1/indexer/status").json()
        return body if body["lag"] == 0 else None

    status = wait_until(caught_up, 15, "the indexer to catch up")
    assert status["indexed"] == status["head"] >= status["finalized"]
    assert status["error"] is None
    # /healthz answers from the state the jobs write (about once a second), not from the node.
    health = wait_until(
        lambda: (h := client.get("/healthz")).json()["indexed"] == status["indexed"] and h,
        10,
        "the jobs' state",
    )
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["checks"]["indexer"] == {"status": "ok", "code": "ok"}
