"""A resident's feedback for the virtual mayor's office: text in SQL, its hash signed and on-chain."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from eth_hash.auto import keccak

from ..support import Resident, Server, error_of, wait_until
from .test_plogging_e2e import wait_final

OPINION = "산책로 쓰레기통을 늘려 주세요. Please add more bins along the river trail."


def prepare_feedback(client: httpx.Client, resident: Resident, **payload: Any) -> httpx.Response:
    body = {"category": "environment", "content": OPINION, "areaCode": 41117, **payload}
    return client.post(
        "/v1/actions/prepare", json={"kind": "feedback", "resident": resident.address, "payload": body}
    )


def test_feedback_is_prepared_with_its_hash_and_the_text_kept_off_chain(
    server: Server, db: sqlite3.Connection
) -> None:
    client = server.client()
    wait_until(
        lambda: prepare_feedback(client, Resident()).status_code == 200, 15, "the categories to be indexed"
    )
    resident = Resident()
    r = prepare_feedback(client, resident)
    assert r.status_code == 200, r.text
    typed = r.json()["typedData"]
    assert typed["primaryType"] == "Feedback"
    assert typed["domain"]["name"] == "FeedbackBox"
    message = typed["message"]
    assert message["category"] == 1 and message["areaCode"] == 41117
    assert OPINION not in str(typed)  # only the hash is signed and sent on-chain
    content, category, author, salt = db.execute(
        "SELECT content, category, resident, salt FROM feedback_content WHERE content_hash = ?",
        (message["contentHash"],),
    ).fetchone()
    assert (content, category, author) == (OPINION, "environment", resident.address)
    assert message["contentHash"] == "0x" + keccak(bytes.fromhex(salt[2:]) + OPINION.encode()).hex()
    again = prepare_feedback(client, resident).json()["typedData"]["message"]["contentHash"]
    assert again != message["contentHash"]  # salted: the same text never gives the same hash

    accepted = client.post("/v1/actions", json={"typedData": typed, "signature": resident.sign(typed)})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "queued"
    action_id = accepted.json()["id"]
    status = wait_final(client, action_id)
    assert status["status"] == "confirmed", status

    def mirrored() -> tuple[Any, ...] | None:
        return db.execute(
            "SELECT author, category, area_code, content_hash, status FROM feedback_item WHERE digest = ?",
            (action_id,),
        ).fetchone()

    item = wait_until(mirrored, 15, "the mirror to hold the feedback item")
    assert item == (resident.address, 1, 41117, message["contentHash"], 1)  # Submitted


def test_unknown_category_and_blank_text_are_refused(server: Server) -> None:
    client = server.client()
    unknown = prepare_feedback(client, Resident(), category="teleportation")
    assert unknown.status_code == 409  # well formed; this deployment has no such category
    error = error_of(unknown)
    assert error["field"] == "payload.category" and "environment" in error["message"]
    blank = prepare_feedback(client, Resident(), content="   ")
    assert blank.status_code == 422 and error_of(blank)["field"] == "payload.content"
