"""Privacy erasure and the auditor's API on a real server and anvil.

A custodial resident (a platform's user, through a signed webhook) and a wallet resident post
feedback; an auditor signed in over HTTP reads the exports and metrics, which must equal the CLI's on
the same database; a member without the auditor role gets 403. The auditor erases the custodial
resident: afterwards no text column of any table holds their text, salt or user id, while the other
resident's text stays; the erasure is logged without them; `esg-ledger audit reconcile`, the exports
and the report still pass, the exports unchanged.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.node import AnvilNode
from ledger.settings import Settings

from ..support import ROOT, Resident, Server, error_of, plogging_payload, wait_until
from .platforms_support import PlatformUnderTest, custody_server, delivery, new_master, register
from .test_plogging_e2e import submit_signed, wait_final
from .test_staff_role_matrix import Deployer, StaffMember, invite, wait_roles

MASTER = new_master()
USER_ID = f"kim-{os.urandom(4).hex()}"
PRIVATE_TEXT = f"제 전화번호는 010-{os.urandom(2).hex()}입니다. The bins on my street overflow."
OTHER_TEXT = f"Benches by the river, please ({os.urandom(3).hex()})."
EXPORT_KINDS = ("plogging", "feedback", "redemptions", "donations", "claims", "admin")


class World:
    def __init__(
        self, server: Server, platform: PlatformUnderTest, settings: Settings, deployment: Deployment
    ):
        self.server, self.platform, self.settings, self.deployment = server, platform, settings, deployment
        self.client = server.client()
        self.db_path = server.data_dir / "ledger.db"
        self.db_url = f"sqlite:///{self.db_path}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "ESG_ENV": "test",
            "ESG_RPC_URL": self.settings.rpc,
            "ESG_DATA_DIR": str(self.server.data_dir),
            "ESG_DATABASE_URL": self.db_url,
        }
        raw = subprocess.run(
            [sys.executable, "-m", "cli", *args], env=env, cwd=ROOT, capture_output=True, timeout=300
        )
        # bytes decoded by hand: text mode would turn the CSV's \r\n into \n
        done = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
        if check:
            assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
        return done

    def caught_up(self) -> None:
        """The mirror holds every block the node has (nothing is sent while the figures are compared)."""
        rpc = HttpRpc(self.settings.rpc)

        def ready() -> bool:
            with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT block_number FROM indexer_cursor").fetchone()
            return row is not None and row[0] == int(rpc.call("eth_blockNumber"), 16)

        wait_until(ready, 30, "the indexer to reach the head")
        rpc.close()


@pytest.fixture(scope="module")
def world(
    anvil: AnvilNode,
    tmp_path_factory: pytest.TempPathFactory,
    data_dir: Path,
    settings: Settings,
    deployment: Deployment,
) -> Iterator[World]:
    run = tmp_path_factory.mktemp("privacy")
    server = custody_server(run, anvil.url, data_dir, MASTER)
    try:
        platform = register(run, MASTER, "city-app", ["plogging", "feedback"])
        yield World(server, platform, settings, deployment)
    finally:
        server.stop()


def _seed(w: World) -> dict[str, Any]:
    """The custodial resident's feedback and session by webhook; the wallet resident's by signing."""
    body = delivery(
        "evt_privacy_1",
        (USER_ID, "feedback", {"category": "environment", "content": PRIVATE_TEXT, "areaCode": 41117}),
        (USER_ID, "plogging", plogging_payload()),
    )
    answer = w.platform.deliver(w.client, body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    custodial = results[0]["resident"]
    ids = [r["id"] for r in results]
    other = Resident()
    prepared = w.client.post(
        "/v1/actions/prepare",
        json={
            "kind": "feedback",
            "resident": other.address,
            "payload": {"category": "environment", "content": OTHER_TEXT},
        },
    )
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typedData"]
    sent = w.client.post("/v1/actions", json={"typedData": typed, "signature": other.sign(typed)})
    assert sent.status_code == 202, sent.text
    ids.append(sent.json()["id"])
    ids.append(submit_signed(w.client, other)[2])
    for i in ids:
        assert wait_final(w.client, i)["status"] == "confirmed"

    def mirrored() -> bool:
        items = w.client.get("/v1/feedback?limit=200").json()["items"]
        return sum(x["resident"] in (custodial, other.address) for x in items) == 2

    wait_until(mirrored, 30, "both feedback items in the mirror")
    return {"custodial": custodial, "other": other.address}


def _staff(w: World) -> tuple[StaffMember, StaffMember]:
    auditor, verifier = StaffMember(w.server), StaffMember(w.server)
    invite(w.db_url, auditor, verifier)
    deployer = Deployer(w.settings, w.deployment)
    deployer.grant("auditor", auditor.address)
    deployer.grant("verifier", verifier.address)
    auditor.sign_in()
    verifier.sign_in()
    wait_roles(auditor, {"auditor"})
    wait_roles(verifier, {"verifier"})
    return auditor, verifier


def _api_exports(auditor: StaffMember) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in EXPORT_KINDS:
        page = auditor.request("GET", f"/v1/staff/audit/exports/{kind}?format=json&limit=200")
        assert page.status_code == 200, page.text
        csv = auditor.request("GET", f"/v1/staff/audit/exports/{kind}?format=csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), csv.text
        assert page.json()["total"] == len(page.json()["items"])  # one page holds everything here
        out[kind] = {"json": page.json()["items"], "csv": csv.text}
    return out


def _cli_exports(w: World) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in EXPORT_KINDS:
        as_json = json.loads(w.cli("audit", "export", kind, "--format", "json").stdout)
        out[kind] = {"json": as_json, "csv": w.cli("audit", "export", kind, "--format", "csv").stdout}
    return out


def _text_values(db_path: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text or blob value of every table."""
    out = []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace") + " " + value.hex()
                    if isinstance(value, str):
                        out.append((table, column, value))
    return out


def _holding(values: list[tuple[str, str, str]], needle: str) -> list[tuple[str, str]]:
    return sorted({(t, c) for t, c, v in values if needle.lower() in v.lower()})


def test_auditor_api_equals_the_cli_and_erasure_leaves_no_personal_data(world: World) -> None:
    w = world
    seeded = _seed(w)
    auditor, verifier = _staff(w)
    w.caught_up()

    # --- the auditor's API equals the CLI on the same data; a non-auditor is refused
    api = _api_exports(auditor)
    assert api == _cli_exports(w)
    assert any(r["resident"] == seeded["custodial"] for r in api["feedback"]["json"])
    assert seeded["other"] in api["plogging"]["csv"]
    for by in (None, "area", "month"):
        query = "" if by is None else f"?by={by}"
        got = auditor.request("GET", f"/v1/staff/audit/metrics{query}")
        assert got.status_code == 200, got.text
        cli = json.loads(w.cli("audit", "metrics", "--json", *(() if by is None else ("--by", by))).stdout)
        assert got.json() == cli
    totals = got.json()["groups"]
    assert sum(g["figures"]["feedback.received"]["value"] for g in totals) >= 2
    for path in ("/v1/staff/audit/exports/feedback", "/v1/staff/audit/metrics", "/v1/staff/privacy/erasures"):
        refused = verifier.request("GET", path)
        assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden", refused.text
    refused = verifier.request("POST", "/v1/staff/privacy/erasures", {"resident": seeded["custodial"]})
    assert refused.status_code == 403

    # --- what is personal before the erasure: the text, its salt, the platform's user id
    before = _text_values(w.db_path)
    with sqlite3.connect(f"file:{w.db_path}?mode=ro", uri=True) as conn:
        (salt,) = conn.execute(
            "SELECT salt FROM feedback_content WHERE lower(resident) = lower(?)", (seeded["custodial"],)
        ).fetchone()
    erased = {"text": PRIVATE_TEXT, "salt": salt, "user id": USER_ID}
    for what, needle in erased.items():
        assert _holding(before, needle), f"the seed put no {what} in SQL: the scan below would prove nothing"
    assert _holding(before, USER_ID) >= [("custodial_wallet", "subject"), ("webhook_delivery", "result")]

    mistyped = seeded["custodial"][:2] + seeded["custodial"][2:].swapcase()  # mixed case, wrong checksum
    for wrong in ("0x1234", mistyped):
        bad = auditor.request("POST", "/v1/staff/privacy/erasures", {"resident": wrong})
        assert bad.status_code == 422 and error_of(bad)["field"] == "resident", bad.text
    done = auditor.request("POST", "/v1/staff/privacy/erasures", {"resident": seeded["custodial"].lower()})
    assert done.status_code == 201, done.text
    erasure = done.json()
    assert erasure["resident"] == seeded["custodial"] and erasure["erasedBy"] == f"staff:{auditor.address}"
    assert erasure["counts"] == {
        "feedback_content": 1,
        "custodial_wallet": 1,
        "webhook_delivery": 1,
        "resident_session": 0,
        "assisted_action": 0,
    }

    after = _text_values(w.db_path)
    for what, needle in erased.items():
        assert _holding(after, needle) == [], f"the {what} is still in SQL"
    assert _holding(after, OTHER_TEXT) == [("feedback_content", "content")]  # nobody else's
    logged = auditor.request("GET", f"/v1/staff/privacy/erasures?resident={seeded['custodial']}").json()[
        "items"
    ]
    assert [e["id"] for e in logged] == [erasure["id"]]
    assert not any(n.lower() in json.dumps(logged).lower() for n in erased.values())

    # the item is still there, its text erased; the audit trail is untouched
    mine = [
        x
        for x in w.client.get("/v1/feedback?limit=200").json()["items"]
        if x["resident"] == seeded["custodial"]
    ]
    assert [x["contentState"] for x in mine] == ["erased"] and mine[0]["content"] is None
    w.cli("audit", "reconcile")
    assert _api_exports(auditor) == api  # every hash and anchor as before (api equalled the CLI)
    report = w.server.data_dir / "report"
    w.cli("audit", "report", "--out", str(report), "--lang", "en")
    assert (report / "report.html").stat().st_size > 0 and (report / "report.pdf").stat().st_size > 0
    assert PRIVATE_TEXT not in (report / "report.html").read_text()

    # the CLI erases too, and logs who asked; erasing again changes nothing more
    cli = json.loads(w.cli("privacy", "erase", seeded["other"], "--by", "ticket-42", "--json").stdout)
    assert cli["erasedBy"] == "cli:ticket-42" and cli["counts"]["feedback_content"] == 1
    assert _holding(_text_values(w.db_path), OTHER_TEXT) == []
    again = auditor.request("POST", "/v1/staff/privacy/erasures", {"resident": seeded["custodial"]}).json()
    assert set(again["counts"].values()) == {0}
    listed = json.loads(w.cli("privacy", "log", "--json").stdout)
    assert [e["id"] for e in listed] == [again["id"], cli["id"], erasure["id"]]
