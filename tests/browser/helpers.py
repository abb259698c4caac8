"""What the browser tests share: where Chromium and axe-core are, the console listener, axe, and the
in-page wallet whose signing is done by a test resident's key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from ..support import Resident, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots"  # the latest run's; docs/images/ holds the ones the docs show
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def listen(page: Page, console: list[str]) -> Page:
    page.on("console", lambda m: console.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and console.append(f"response {r.status}: {r.url}"))
    return page


def quiet(console: list[str]) -> None:
    errors = [line for line in console if line.startswith(("console.error", "page error", "request failed"))]
    assert not errors, errors


def axe(page: Page) -> list[dict[str, object]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in result
    ]


def opened(page: Page, server: Server, path: str, lang: str = "ko") -> Page:
    """`path` loaded and ready (the page sets data-ready once it is usable), in `lang`."""
    page.goto(server.url + path)
    expect(page.locator("html")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


def fits(page: Page, width: int = 320) -> None:
    """Nothing scrolls sideways (else: the elements that stick out)."""
    wide = page.evaluate(
        """w => document.documentElement.scrollWidth <= w ? [] : [...document.querySelectorAll("body *")]
             .filter(e => e.getBoundingClientRect().right > w + 0.5)
             .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)
             .slice(0, 12)""",
        width,
    )
    assert wide == [], wide


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
