"""How api/routes/pages.py serves the Vite build: the page uncached, hashed assets for a year, a 503 without
a build. Plain function calls, no browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from api.routes import pages


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(pages, "DIST", tmp_path)
    monkeypatch.setattr(pages, "ASSETS", tmp_path / "assets")
    return tmp_path


def test_without_a_build_the_plaza_says_to_run_setup(dist: Path) -> None:
    response = pages.plaza()
    assert response.status_code == 503
    assert "scripts/setup" in bytes(response.body).decode()


def test_the_built_plaza_is_served_uncached_and_its_assets_for_a_year(dist: Path) -> None:
    (dist / "assets").mkdir()
    (dist / "plaza.html").write_text(
        "<!doctype html><html lang=ko><title>광장</title></html>", encoding="utf-8"
    )
    (dist / "assets" / "plaza-abc123.js").write_text("console.log(1)")
    (dist.parent / "secret.txt").write_text("no")
    page = pages.plaza()
    assert page.status_code == 200 and "광장" in bytes(page.body).decode()
    assert page.headers["cache-control"] == "no-cache"
    asset = pages.asset("plaza-abc123.js")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    for name in ("../../secret.txt", "missing.js", ""):
        with pytest.raises(HTTPException) as refused:
            pages.asset(name)
        assert refused.value.status_code == 404


def test_the_workspaces_are_served_from_the_build_and_the_partner_desk_names_the_node(dist: Path) -> None:
    class Settings:
        public_rpc = 'http://node.example/"rpc"'

    class Services:
        settings = Settings()

    assert pages.dashboard().status_code == 503  # no build yet: the same page that says to run setup
    (dist / "dashboard.html").write_text(
        "<!doctype html><html lang=ko><title>업무</title></html>", encoding="utf-8"
    )
    (dist / "partner.html").write_text('<body data-rpc-url="{rpc_url}">', encoding="utf-8")
    dashboard = pages.dashboard()
    assert dashboard.status_code == 200 and dashboard.headers["cache-control"] == "no-cache"
    partner = pages.partner(Services())  # type: ignore[arg-type]
    assert bytes(partner.body).decode() == '<body data-rpc-url="http://node.example/&quot;rpc&quot;">'
