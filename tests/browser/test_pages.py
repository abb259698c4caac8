"""The three pages in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Resident, Server

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: scripts/test installs Debian's chromium when run as root")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(anvil: AnvilNode, data_dir: Path, deployment: Deployment) -> Iterator[Server]:
    srv = Server(rpc_url=anvil.url, data_dir=data_dir).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url} {r.failure}"))
    yield page
    context.close()
    # pytest shows this only for a failing test: what the browser saw, and what the server logged
    print("\n".join(console) or "(nothing on the browser console)")
    print("--- server log (tail) ---\n" + server.log.read_text(errors="replace")[-4000:])


def with_wallet(page: Page, resident: Resident) -> None:
    """A wallet in the page: window.ethereum, whose signing is done by the resident's key (eth-account)."""
    page.expose_function("esgSignTypedData", lambda typed: resident.sign(json.loads(typed)))
    page.add_init_script(f"""
        window.ethereum = {{
          request: async ({{method, params}}) => {{
            if (method === "eth_requestAccounts") return ["{resident.address}"];
            if (method === "eth_signTypedData_v4") return await window.esgSignTypedData(params[1]);
            throw new Error("unsupported " + method);
          }}
        }};""")


def test_resident_logs_a_session_and_sees_it(server: Server, page: Page, tmp_path: Path) -> None:
    resident = Resident()
    with_wallet(page, resident)
    page.goto(server.url + "/plaza")
    page.get_by_label("Distance (m)").fill("4200")
    page.get_by_label("Litter (g)").fill("1200")
    page.get_by_role("button", name="Sign and send").click()
    expect(page.locator("#session-status")).to_contain_text("Recorded in block", timeout=30_000)
    expect(page.locator("#sessions")).to_have_text("1", timeout=15_000)
    expect(page.locator("#trash")).to_have_text("1.2")
    expect(page.locator("#balance")).to_have_text(str(4200 * 10 // 1000 + 1200 * 5 // 100))
    expect(page.locator("#history tr")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "plaza.png"), full_page=True)


def test_plaza_without_a_wallet_says_what_to_do(server: Server, page: Page) -> None:
    page.goto(server.url + "/plaza")
    page.get_by_role("button", name="Sign and send").click()
    expect(page.locator("#session-status")).to_contain_text("No wallet in this browser")


def test_dashboard_shows_totals_and_the_pipeline(server: Server, page: Page) -> None:
    page.goto(server.url + "/dashboard")
    expect(page.locator("#health")).to_have_text("ok", timeout=30_000)
    expect(page.locator("#sessions")).not_to_have_text("\u2013")  # the placeholder dash
    expect(page.locator("#refresh-error")).to_have_text("")
    sessions = int(page.locator("#sessions").inner_text().replace(",", ""))
    stats = server.client().get("/v1/stats").json()
    assert sessions == stats["plogging"]["sessions"] >= 1
    expect(page.locator("#rows tr")).to_have_count(stats["plogging"]["sessions"])


def test_partner_verifies_on_chain(server: Server, page: Page) -> None:
    client = server.client()
    recent = client.get("/v1/plogging/sessions?limit=1").json()[0]
    page.goto(server.url + "/partner")
    page.get_by_label("Action id").fill(recent["id"])
    page.get_by_role("button", name="Verify on-chain").click()
    expect(page.locator("#action-result")).to_have_text(
        f"Found on-chain in block {recent['blockNumber']} — the city's API agrees.", timeout=10_000
    )
    page.get_by_label("Resident address").fill(recent["resident"])
    page.get_by_role("button", name="Check balance on-chain").click()
    expect(page.locator("#balance-result")).to_contain_text("the city's API agrees")
    page.get_by_label("Action id").fill("0x" + "ab" * 32)
    page.get_by_role("button", name="Verify on-chain").click()
    expect(page.locator("#action-result")).to_contain_text("Not found on-chain")
