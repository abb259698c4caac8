"""The lean read path (api/readpath.py) answers exactly as the FastAPI routes it stands in for.

On the world of `test_reads.py` (feedback hidden, erased, answered; redemptions, donations, claims of
amounts past 64 bits), every URL below is requested from an app with the lean path and from one with
`read_fastpath=False`: the same status, content type and bytes. The lean path alone, in front of the
plain app, shows which it served itself: every well-formed read, while malformed parameters, unknown
actions and unknown categories fall through to the route (422 and 404 problem details as before).
A PostgreSQL mirror of the same chain is compared the same way.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.readpath import ReadFastPath
from api.services import Services
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..support import Postgres, Resident, Server, wait_until
from .test_reads import World, world  # noqa: F401  (the module's world fixture, seeded once)

INT64_MAX = 2**63 - 1
NO_SUCH = "no such category"  # a name no category has: no ids to filter by, the route answers it


def _urls(w: World, action_ids: list[str]) -> list[str]:
    someone = w.A.address
    residents = [r.address for r in w.residents.values()]
    urls = [f"/v1/residents/{a}" for a in residents]
    urls += [f"/v1/residents/{a.lower()}" for a in residents[:2]]
    urls += [
        f"/v1/residents/{Resident().address}",  # unknown: a resident with nothing yet
        f"/v1/residents/0x{someone[2:].upper()}?ignored=1",
        "/v1/residents/0x1234",
        f"/v1/residents/0X{someone[2:]}",
        "/v1/residents/me",
    ]
    urls += [f"/v1/actions/{i}" for i in action_ids]
    urls += [f"/v1/actions/0x{i[2:].upper()}" for i in action_ids[:1]]
    urls += ["/v1/actions/0x" + "ab" * 32, "/v1/actions/0x12"]
    feedback = [
        "",
        "status=submitted",
        "status=under_review",
        "status=answered",
        "status=closed",
        "status=nope",
        "status=",
        "category=environment",
        "category=Environment",
        "category=TRANSPORT",
        "category=" + quote(NO_SUCH),
        "category=",
        "category=%01",
        "category=" + "x" * 65,
        "category=" + quote("é" * 48 + NO_SUCH),  # 64 characters: the longest allowed
        "areaCode=41117",
        "areaCode=0",
        "areaCode=4294967295",
        "areaCode=4294967296",
        "areaCode=-1",
        f"areaCode={2**70}",
        f"resident={someone}",
        f"resident={someone.lower()}",
        f"resident={w.B.address}&hidden=false",
        "resident=0x12",
        "hidden=true",
        "hidden=false",
        "hidden=1",
        "hidden=no",
        "hidden=maybe",
        "limit=1",
        "limit=200",
        "limit=201",
        "limit=0",
        "limit=abc",
        "limit=1&offset=1",
        "limit=1&offset=2",
        "limit=2&limit=1",
        "offset=1000",
        f"offset={INT64_MAX}",
        f"offset={INT64_MAX + 1}",
        f"offset={2**100}",
        "status=submitted&areaCode=41117",
        "category=environment&limit=1&offset=1",
        f"category=environment&areaCode=41117&resident={someone}&hidden=false&status=submitted",
        "unknown=1&limit=3",
    ]
    urls += [f"/v1/feedback?{q}" if q else "/v1/feedback" for q in feedback]
    return urls


def _app(settings: Settings, services: Services, *, lean: bool) -> FastAPI:
    app = create_app(settings.model_copy(update={"read_fastpath": lean}), run_jobs=False)
    app.state.services = services  # no lifespan: the jobs run in the test's server
    return app


class _Routed:
    """The plain app behind the lean path alone, remembering each request that reached it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await self.app(scope, receive, send)


def _lean_alone(app: FastAPI, routed: _Routed) -> Any:
    lean = ReadFastPath(routed)

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["app"] = app  # as Starlette hands it to middleware
        await lean(scope, receive, send)

    return asgi


def _answer(client: TestClient, url: str) -> tuple[int, str | None, bytes]:
    r = client.get(url)
    content_type, body = r.headers.get("content-type"), r.content
    if content_type == "application/problem+json":  # each request has its own id; the rest is equal
        body = json.dumps({k: v for k, v in r.json().items() if k != "requestId"}).encode()
    return r.status_code, content_type, body


def _compare(settings: Settings, w: World, action_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    services = Services.start(settings, run_jobs=False)
    try:
        plain = _app(settings, services, lean=False)
        routed = _Routed(plain)
        # not entered: no lifespan, so the apps keep the services above
        lean = TestClient(_app(settings, services, lean=True))
        off = TestClient(plain)
        alone = TestClient(_lean_alone(plain, routed))
        answers = {}
        for url in _urls(w, action_ids):
            expected = _answer(off, url)
            assert _answer(lean, url) == expected, url
            before = len(routed.paths)
            assert _answer(alone, url) == expected, url
            fell_through = len(routed.paths) > before
            status, content_type, body = expected
            if content_type == "application/json" and quote(NO_SUCH) not in url:
                assert status == 200 and not fell_through, url  # served lean
            else:
                assert fell_through, url
                assert content_type is not None and content_type.startswith(
                    "application/problem+json" if status >= 400 else "application/json"
                ), url
            answers[url] = (status, body)
    finally:
        services.stop()
    return answers


def _action_ids(data_dir: Path) -> list[str]:
    db = sqlite3.connect(f"file:{data_dir / 'ledger.db'}?mode=ro", uri=True)
    try:
        return [r[0] for r in db.execute("SELECT id FROM action ORDER BY id")]
    finally:
        db.close()


def test_the_lean_reads_answer_byte_for_byte_as_the_routes(
    world: World,  # noqa: F811
    settings: Settings,
    data_dir: Path,
) -> None:
    answers = _compare(settings, world, _action_ids(data_dir))
    statuses = {status for status, _ in answers.values()}
    assert statuses == {200, 401, 404, 422}, statuses  # 401: /v1/residents/me, another route
    assert sum(1 for s, _ in answers.values() if s == 200) > 40


@pytest.mark.postgres
def test_the_lean_reads_answer_as_the_routes_on_postgres(
    world: World,  # noqa: F811
    anvil: AnvilNode,
    data_dir: Path,
    deployment: Deployment,
    postgres: Postgres,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same on a PostgreSQL mirror of the chain (threads, a REPEATABLE READ snapshot, NUMERIC)."""
    run = tmp_path_factory.mktemp("lean-pg")
    shutil.copytree(data_dir / "deployments", run / "deployments")
    database = postgres.database("lean")
    srv = Server(rpc_url=anvil.url, data_dir=run, database_url=database).start()
    try:
        with srv.client() as client:
            wait_until(
                lambda: (
                    client.get("/v1/feedback").json()["total"] >= 3
                    and client.get(f"/v1/residents/{world.Q.address}").json()["claimed"] == 40
                ),
                30,
                "the PostgreSQL mirror to catch up",
            )
        pg = Settings(env="test", rpc_url=anvil.url, data_dir=run, database_url=database)
        answers = _compare(pg, world, [])
    finally:
        srv.stop()
    assert sum(1 for s, _ in answers.values() if s == 200) > 30
