"""`POST /v1/actions` is served by a lean ASGI path (api/fastpath.py) that hands everything it does not
accept to the FastAPI route. Whichever answers, the client sees one API: these cases sit on the seam
between the two (content types, extra keys, numbers orjson cannot read, repeats, refusals)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx

from ..support import Resident, Server, error_of, plogging_payload
from .test_bad_input import prepared


def signed(client: httpx.Client) -> tuple[Resident, dict[str, Any]]:
    resident = Resident()
    typed = prepared(client, resident)
    return resident, {"typedData": typed, "signature": resident.sign(typed)}


def stored(db: sqlite3.Connection, action_id: str) -> int:
    return int(db.execute("SELECT count(*) FROM action WHERE id = ?", (action_id,)).fetchone()[0])


def test_one_action_with_a_charset_and_extra_keys_is_accepted_once(
    server: Server, db: sqlite3.Connection
) -> None:
    client = server.client()
    _, body = signed(client)
    raw = json.dumps({**body, "clientVersion": "plaza/2.1"}).encode()
    answers = [
        httpx.post(
            server.url + "/v1/actions",
            content=raw,
            headers={"content-type": "application/json; charset=utf-8"},
        )
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1 and answers[0].json()["status"] == "queued"
    (action_id,) = ids
    assert stored(db, action_id) == 1
    assert client.get(f"/v1/actions/{action_id}").json()["id"] == action_id


def test_a_single_post_and_a_batch_give_the_same_id(server: Server) -> None:
    client = server.client()
    _, body = signed(client)
    single = client.post("/v1/actions", json=body)
    batch = client.post("/v1/actions/batch", json={"actions": [body]})
    assert single.status_code == 202 and batch.status_code == 202, (single.text, batch.text)
    assert batch.json()["results"][0]["id"] == single.json()["id"]


def test_a_number_wider_than_64_bits_gets_the_routes_field_error(
    server: Server, db: sqlite3.Connection
) -> None:
    # orjson refuses integers beyond 64 bits; the route's parser reads them and names the field.
    client = server.client()
    _, body = signed(client)
    body["typedData"]["message"]["nonce"] = 2**70
    before = db.execute("SELECT count(*) FROM action").fetchone()[0]
    r = client.post("/v1/actions", json=body)
    assert r.status_code == 422, r.text
    assert error_of(r)["field"] == "typedData.message.nonce"
    assert db.execute("SELECT count(*) FROM action").fetchone()[0] == before


def test_typed_data_that_is_not_an_object_gets_the_routes_answer(server: Server) -> None:
    client = server.client()
    for body, field in (
        ({"typedData": [], "signature": "0x" + "11" * 65}, "typedData"),
        ({"typedData": plogging_payload(), "signature": 7}, "signature"),
        ([], None),
    ):
        r = client.post("/v1/actions", json=body)
        assert r.status_code == 422, r.text
        assert error_of(r)["code"] == "invalid_request"
        if field:
            assert error_of(r)["field"] == field, r.json()


def test_a_body_not_declared_as_json_is_refused_as_the_route_refuses_it(
    server: Server, db: sqlite3.Connection
) -> None:
    _, body = signed(server.client())
    raw = json.dumps(body).encode()
    before = db.execute("SELECT count(*) FROM action").fetchone()[0]
    for headers in ({"content-type": "text/plain"}, {}):
        r = httpx.post(server.url + "/v1/actions", content=raw, headers=headers)
        assert r.status_code == 422, r.text
        assert error_of(r)["code"] == "invalid_request"
    assert db.execute("SELECT count(*) FROM action").fetchone()[0] == before
    assert httpx.post(server.url + "/v1/actions", json=body).status_code == 202
