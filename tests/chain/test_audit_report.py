"""Audit exports, ESG metrics and the ESG report on a seeded chain (tests/chain/scenario.py), indexed
by the real indexer into SQLite. Every expected value comes from what the scenario signed and sent
(its entries and receipts), never from the code under test's SQL."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine
from web3 import Web3

from indexer.esg_metrics import metrics, metrics_by
from indexer.exports import KINDS, BlockClock, Filters, csv_lines, export_page, export_rows
from indexer.report import build_report
from ledger.chain.events import EVENTS
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.eip712 import ActionType
from ledger.errors import AuditQueryError
from ledger.kinds import DONATION, PLOGGING, REDEMPTION
from ledger.settings import Settings

from ..support import Resident
from .mirror import database, make_indexer
from .scenario import Scenario

TOPIC = {e.name: e.topic0 for e in EVENTS}
FIELDS = [name for name, _ in PLOGGING.fields]
ZERO = "0x" + "00" * 20


class Recorded(Scenario):
    """The scenario, keeping what it signed and every receipt."""

    def __init__(self, settings: Settings, deployment: Deployment) -> None:
        super().__init__(settings, deployment)
        self.batches: list[list[tuple[tuple[Any, ...], bytes]]] = []
        self.receipts: list[tuple[str, Any]] = []
        self.amounts: dict[str, list[int]] = {"redemption": [], "donation": []}

    def send(self, who: Any, contract: str, function: str, *args: Any) -> Any:
        receipt = super().send(who, contract, function, *args)
        self.receipts.append((function, receipt))
        if function == "recordBatch":
            self.batches.append(list(args[0]))
        if function == "createCampaign":
            self.campaign_args = args
        return receipt

    def signed(self, kind: ActionType, resident: Resident, **fields: Any) -> tuple[tuple[Any, ...], bytes]:
        if kind is REDEMPTION:
            self.amounts["redemption"].append(fields["amount"])
        if kind is DONATION:
            self.amounts["donation"].append(fields["amount"])
        return super().signed(kind, resident, **fields)


@pytest.fixture(scope="module")
def seeded(
    settings: Settings, deployment: Deployment, rpc: HttpRpc, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Recorded, Engine]]:
    s = Recorded(settings, deployment)
    s.run()
    engine = database("sqlite", tmp_path_factory.mktemp("mirror"))
    make_indexer(deployment, rpc, engine).sync()
    yield s, engine
    engine.dispose()


def _log(receipt: Any, event: str, topic1: bytes | None = None) -> Any:
    for log in receipt["logs"]:
        if log["topics"][0].to_0x_hex() == TOPIC[event] and (
            topic1 is None or bytes(log["topics"][1]) == topic1
        ):
            return log
    raise AssertionError(f"no {event} in the receipt")


def _receipt(s: Recorded, function: str, index: int = 0) -> Any:
    return [r for f, r in s.receipts if f == function][index]


def _accepted_entries(s: Recorded) -> list[tuple[tuple[Any, ...], bytes]]:
    # the scenario's story: batch 1 auto-accepted (3); the too-fast one fails; of the three pending,
    # the first is verified, the second rejected, the third verified then revoked; then two more
    # auto-accepted sessions (b's, and a's after the pause)
    first, too_fast, pending, b_again, a_final = s.batches
    assert len(too_fast) == 1 and len(pending) == 3
    return [*first, pending[0], *b_again, *a_final]


def _period(deployment: Deployment, rpc: HttpRpc, engine: Engine) -> Any:
    head = int(rpc.call("eth_blockNumber"), 16)
    return BlockClock(rpc).period(None, None, start_block=deployment.start_block, last_block=head)


def test_plogging_export_has_every_column_and_anchor(
    seeded: tuple[Recorded, Engine], deployment: Deployment, rpc: HttpRpc
) -> None:
    s, engine = seeded
    registry = deployment.address("PloggingRegistry")
    with engine.connect() as conn:
        rows = list(export_rows(conn, kind="plogging", chain_id=deployment.chain_id, filters=Filters()))
    recorded = [e for batch in s.batches for e in batch if e not in s.batches[1]]
    assert len(rows) == len(recorded) == 8
    assert list(rows[0]) == list(KINDS["plogging"].column_names)
    by_digest = {r["digest"]: r for r in rows}
    statuses = {}
    first, _, pending, b_again, a_final = s.batches
    for e in [*first, *b_again, *a_final]:
        statuses[s.digest(e)] = ("accepted", "accepted")
    for e, status in zip(pending, ("accepted", "rejected", "revoked"), strict=True):
        statuses[s.digest(e)] = ("pending", status)
    calls = [r for f, r in s.receipts if f == "recordBatch"]
    for batch, receipt in zip(s.batches, calls, strict=True):
        for entry in batch:
            if entry in s.batches[1]:
                continue
            digest = s.digest(entry)
            row = by_digest["0x" + digest.hex()]
            log = _log(receipt, "PloggingRecorded", digest)
            values = dict(zip(FIELDS, entry[0], strict=True))
            assert row["chain_id"] == deployment.chain_id
            assert row["contract"] == registry
            assert row["tx_hash"] == receipt["transactionHash"].to_0x_hex()
            assert row["block_number"] == receipt["blockNumber"]
            assert row["block_hash"] == receipt["blockHash"].to_0x_hex()
            assert row["log_index"] == log["logIndex"]
            assert row["resident"] == values["resident"]
            assert row["nonce"] == values["nonce"]
            for column, name in (
                ("distance_meters", "distanceMeters"),
                ("duration_seconds", "durationSeconds"),
                ("trash_grams", "trashGrams"),
                ("area_code", "areaCode"),
                ("started_at", "startedAt"),
            ):
                assert row[column] == values[name], column
            assert row["evidence_hash"] == "0x" + values["evidenceHash"].hex()
            assert (row["recorded_status"], row["status"]) == statuses[digest]
    rejected, revoked = (by_digest["0x" + s.digest(e).hex()] for e in pending[1:])
    assert rejected["reason_code"] == 7 and revoked["reason_code"] == 3
    assert rejected["reviewer"] == revoked["reviewer"] == s.admin.address
    revoke = _receipt(s, "revoke")
    assert revoked["reviewed_block"] == revoke["blockNumber"]
    # filters
    with engine.connect() as conn:
        only = export_page(
            conn,
            kind="plogging",
            chain_id=deployment.chain_id,
            filters=Filters(status="rejected", resident=s.a.address),
            limit=10,
            offset=0,
        )
        assert only["total"] == 1 and only["items"][0]["digest"] == rejected["digest"]
        first_block = calls[2]["blockNumber"]
        later = export_page(
            conn,
            kind="plogging",
            chain_id=deployment.chain_id,
            filters=Filters(first_block=first_block),
            limit=1,
            offset=0,
        )
        assert later["total"] == 5 and len(later["items"]) == 1
        assert (
            export_page(
                conn,
                kind="plogging",
                chain_id=deployment.chain_id,
                filters=Filters(area=1),
                limit=5,
                offset=0,
            )["total"]
            == 0
        )
        with pytest.raises(AuditQueryError) as refused:
            list(
                export_rows(
                    conn, kind="redemptions", chain_id=deployment.chain_id, filters=Filters(area=41117)
                )
            )
        assert refused.value.field == "area"


def test_other_exports_carry_their_records_and_anchors(
    seeded: tuple[Recorded, Engine], deployment: Deployment
) -> None:
    s, engine = seeded
    rewards = deployment.address("CommunityRewards")
    with engine.connect() as conn:

        def rows(kind: str, **f: Any) -> list[dict[str, Any]]:
            return list(export_rows(conn, kind=kind, chain_id=deployment.chain_id, filters=Filters(**f)))

        redemptions = rows("redemptions")
        assert [r["amount"] for r in redemptions] == s.amounts["redemption"]
        for row, receipt in zip(redemptions, [r for f, r in s.receipts if f == "redeemBatch"], strict=True):
            log = _log(receipt, "Redeemed")
            assert (row["tx_hash"], row["log_index"], row["block_hash"], row["contract"]) == (
                receipt["transactionHash"].to_0x_hex(),
                log["logIndex"],
                receipt["blockHash"].to_0x_hex(),
                rewards,
            )
            assert row["resident"] == s.b.address and row["partner"] == s.partner.address
        (donation,) = rows("donations")
        assert donation["amount"] == s.amounts["donation"][0] == 5 and donation["cause_id"] == 1
        assert donation["tx_hash"] == _receipt(s, "donateBatch")["transactionHash"].to_0x_hex()
        (claim,) = rows("claims", campaign=1)
        assert (claim["amount"], claim["resident"], claim["campaign_id"]) == (40, s.a.address, 1)
        assert rows("claims", campaign=2) == [] and len(rows("claims", area=41117)) == 1
        items = rows("feedback")
        assert [i["item_id"] for i in items] == [1, 2]
        one, two = items
        answer = _receipt(s, "answer")
        assert (one["status"], one["supports"], one["threshold_reached"], one["accepted"]) == (
            "closed",
            2,
            True,
            True,
        )
        assert (
            one["answer_block"] == answer["blockNumber"]
            and one["answer_tx_hash"] == answer["transactionHash"].to_0x_hex()
        )
        assert one["closed_block"] == _receipt(s, "close")["blockNumber"]
        assert one["answer_hash"] == "0x" + Web3.keccak(text="bins ordered").hex().removeprefix("0x")
        assert (two["hidden"], two["moderation_reason_code"], two["category_name"]) == (True, 4, "parks")
        assert two["resident"] == s.b.address and one["resident"] == s.a.address
        assert rows("feedback", status="closed") == [one]
        admin = rows("admin")
        admin_txs = {r["tx_hash"] for r in admin}
        for function in (
            "setThresholds",
            "verify",
            "reject",
            "revoke",
            "setPartner",
            "moderate",
            "answer",
            "pause",
        ):
            assert _receipt(s, function)["transactionHash"].to_0x_hex() in admin_txs, function
        assert {r["actor"] for r in admin if r["action"] == "FeedbackModerated"} == {s.admin.address}
        text = "".join(csv_lines("admin", iter(admin)))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(admin) and list(parsed[0]) == list(KINDS["admin"].column_names)
    assert json.loads(parsed[0]["details"]) == admin[0]["details"]


def _expected(s: Recorded, deployment: Deployment, rpc: HttpRpc) -> dict[str, Any]:
    accepted = _accepted_entries(s)
    values = [dict(zip(FIELDS, e[0], strict=True)) for e in accepted]
    w3 = s.w3
    token = w3.eth.contract(
        address=Web3.to_checksum_address(deployment.address("ParticipationToken")),
        abi=deployment.contracts["ParticipationToken"].abi,
    )
    transfers = w3.eth.get_logs(
        {
            "address": token.address,
            "fromBlock": deployment.start_block,
            "toBlock": "latest",
            "topics": [TOPIC["Transfer"]],
        }
    )
    minted = sum(int(x["data"].hex(), 16) for x in transfers if x["topics"][1].hex()[-40:] == "0" * 40)
    burned = sum(int(x["data"].hex(), 16) for x in transfers if x["topics"][2].hex()[-40:] == "0" * 40)
    submit, answer = _receipt(s, "submitBatch"), _receipt(s, "answer")
    wait = (
        w3.eth.get_block(answer["blockNumber"])["timestamp"]
        - w3.eth.get_block(submit["blockNumber"])["timestamp"]
    )
    return {
        "participation.participants": len({v["resident"] for v in values}),
        "participation.first_time_participants": 3,
        "participation.sessions": len(values),
        "participation.kilometres": sum(v["distanceMeters"] for v in values) / 1000,
        "waste.kilograms_collected": sum(v["trashGrams"] for v in values) / 1000,
        "waste.gri_306_3_generated_kg": sum(v["trashGrams"] for v in values) / 1000,
        "waste.gri_306_4_diverted_kg": None,
        "feedback.received": 2,
        "feedback.supported": 1,
        "feedback.past_threshold": 1,
        "feedback.answered": 1,
        "feedback.closed": 1,
        "feedback.answered_share": 0.5,
        "feedback.median_hours_to_answer": statistics.median([wait]) / 3600,
        "feedback.overdue": 0,
        "tokens.issued": minted,
        "tokens.redeemed": sum(s.amounts["redemption"]),
        "tokens.donated": 5,
        "tokens.burned": burned,
        "tokens.outstanding": token.functions.totalSupply().call(),
    }


def test_metrics_equal_the_scenario(
    seeded: tuple[Recorded, Engine], deployment: Deployment, rpc: HttpRpc
) -> None:
    s, engine = seeded
    expected = _expected(s, deployment, rpc)
    assert expected["participation.sessions"] == 6 and expected["tokens.issued"] > 0
    with engine.connect() as conn:
        result = metrics(
            conn, BlockClock(rpc), chain_id=deployment.chain_id, period=_period(deployment, rpc, engine)
        )
        assert {k: f.value for k, f in result.figures.items()} == pytest.approx(expected)
        for f in result.figures.values():
            assert f.query in result.queries and "SELECT" in result.queries[f.query]
        # the SQL kept with a figure, run again as text, gives the figure
        sql = result.queries["participation"]
        assert conn.exec_driver_sql(sql).one()[1] == expected["participation.sessions"]
        # by area: every session is in 41117
        (area,) = metrics_by(
            conn,
            BlockClock(rpc),
            chain_id=deployment.chain_id,
            period=_period(deployment, rpc, engine),
            by="area",
        )
        assert area.group == {"area": 41117} and area.figures["participation.sessions"].value == 6
        assert "tokens.issued" not in area.figures
        # a period that ends before the first plogging batch has none
        first = _receipt(s, "recordBatch")["blockNumber"]
        before = BlockClock(rpc).period(None, None, start_block=deployment.start_block, last_block=first - 1)
        assert (
            metrics(conn, BlockClock(rpc), chain_id=deployment.chain_id, period=before)
            .figures["participation.sessions"]
            .value
            == 0
        )
        # a campaign's window (which is after every session here) excludes them
        (campaign,) = metrics_by(
            conn,
            BlockClock(rpc),
            chain_id=deployment.chain_id,
            period=_period(deployment, rpc, engine),
            by="campaign",
        )
        start, end, _metric, area_code = s.campaign_args[:4]
        inside = [
            v
            for v in (dict(zip(FIELDS, e[0], strict=True)) for e in _accepted_entries(s))
            if v["areaCode"] == area_code and start <= v["startedAt"] < end
        ]
        assert campaign.group == {"campaign": 1}
        assert campaign.figures["participation.sessions"].value == len(inside)


def _png_pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")], check=True, timeout=120)
    return sorted(out.glob("page-*.png"))


def test_report_renders_with_the_seeded_figures(
    seeded: tuple[Recorded, Engine], deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    s, engine = seeded
    expected = _expected(s, deployment, rpc)
    result = build_report(
        engine, rpc, deployment, since=None, until=None, out_dir=tmp_path / "report", lang="ko"
    )
    head = int(rpc.call("eth_blockNumber"), 16)
    block = s.w3.eth.get_block(head)
    assert result.reconciliation.ok and result.reconciliation.block == head
    assert (
        f"블록 {head}" in result.reconciliation.line
        and block["hash"].to_0x_hex() in result.reconciliation.line
    )
    html = result.html.read_text()
    assert result.reconciliation.line in html and 'class="reconcile ok"' in html
    summary = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert {k: f["value"] for k, f in summary["figures"].items()} == pytest.approx(expected)
    # charts: the Vega-Lite data are the seeded figures, and the SVGs carry them as text
    specs = result.specs
    funnel = {r["stage"]: r["items"] for r in specs["funnel"]["data"]["values"]}
    assert funnel == {"접수": 2, "공감": 1, "답변": 1, "종결": 1}
    assert specs["kilograms"]["data"]["values"] == [
        {"area": "41117", "kilograms": expected["waste.kilograms_collected"]}
    ]
    sessions = sum(r["value"] for r in specs["participation"]["data"]["values"] if r["series"] == "세션")
    assert sessions == expected["participation.sessions"]
    tokens = specs["tokens"]["data"]["values"]
    assert sum(r["points"] for r in tokens if r["series"] == "발행") == expected["tokens.issued"]
    assert sum(r["points"] for r in tokens if r["series"] == "사용") == expected["tokens.redeemed"]
    assert "41117" in html and "시민 의견 답변 단계" in html and "<svg" in html
    # anchors.csv lists every accepted session's log
    with result.anchors.open() as fh:
        anchors = list(csv.DictReader(fh))
    session_txs = {a["tx_hash"] for a in anchors if a["population"] == "plogging_accepted_sessions"}
    assert sum(1 for a in anchors if a["population"] == "plogging_accepted_sessions") == 6
    assert _receipt(s, "recordBatch")["transactionHash"].to_0x_hex() in session_txs
    assert sum(1 for a in anchors if a["population"] == "redemptions") == len(s.amounts["redemption"])
    # the PDF opens and has ink on its first page
    pages = _png_pages(result.pdf, tmp_path)
    assert len(pages) > 0
    with Image.open(pages[0]) as image:
        extrema = image.convert("L").getextrema()
    assert extrema[0] < 128 < extrema[1], extrema
    fonts = subprocess.run(["pdffonts", str(result.pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-KR" in fonts  # the Korean labels are set in the embedded font, not a fallback


def test_report_says_so_when_reconciliation_fails(
    seeded: tuple[Recorded, Engine], deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    s, engine = seeded
    db = str(engine.url.database)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE token_transfer SET value = value + 1 WHERE to_address = ?", (s.a.address,))
    try:
        result = build_report(engine, rpc, deployment, since=None, until=None, out_dir=tmp_path, lang="en")
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE token_transfer SET value = value - 1 WHERE to_address = ?", (s.a.address,))
    assert not result.reconciliation.ok
    html = result.html.read_text()
    assert "RECONCILIATION FAILED" in html and 'class="reconcile failed"' in html


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_report_html_loads_in_chromium_without_console_errors(
    seeded: tuple[Recorded, Engine], deployment: Deployment, rpc: HttpRpc, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    _, engine = seeded
    result = build_report(engine, rpc, deployment, since=None, until=None, out_dir=tmp_path, lang="en")
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: console.append(f"request failed: {r.url}"))
        page.goto(result.html.as_uri())
        page.wait_for_load_state("load")
        assert page.locator("figure svg").count() == 4
        assert page.locator("#reconcile").inner_text().startswith("SQL equals chain as of block")
        fonts_ok = page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts].filter(f => f.status === 'error').length)"
        )
        browser.close()
    assert fonts_ok == 0
    assert console == []
