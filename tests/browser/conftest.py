"""Fixtures of the browser tests: Debian's Chromium through Playwright, and per test module a real
server against that module's anvil (tests/conftest.py), with custody on so that custodial staff sign."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ledger.deploy import Deployment
from ledger.node import AnvilNode

from ..support import Server
from .helpers import CHROMIUM, FLAGS, listen

MASTER_KEY = os.urandom(32).hex()  # ESG_CUSTODY_MASTER_KEY of the test servers: seals custodial staff keys


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
    srv = Server(rpc_url=anvil.url, data_dir=data_dir, ESG_CUSTODY_MASTER_KEY=MASTER_KEY).start()
    yield srv
    srv.stop()


@pytest.fixture
def console() -> list[str]:
    """What the browser said: console messages, page errors and failed requests."""
    return []


@pytest.fixture
def page(browser: Browser, server: Server, console: list[str]) -> Iterator[Page]:
    context = browser.new_context()
    page = listen(context.new_page(), console)
    yield page
    context.close()
    # pytest shows this only for a failing test: what the browser saw, and what the server logged
    print("\n".join(console) or "(nothing on the browser console)")
    print("--- server log (tail) ---\n" + server.log.read_text(errors="replace")[-4000:])
