"""The three web pages: /plaza (residents), /dashboard (ESG team), /partner (partners)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ledger.chain.decode import PLOGGING_RECORDED

from ..deps import ServicesDep

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGES = Path(__file__).resolve().parent.parent / "pages"


@router.get("/plaza", response_class=HTMLResponse)
def plaza() -> str:
    return (PAGES / "plaza.html").read_text()


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> str:
    return (PAGES / "dashboard.html").read_text()


@router.get("/partner", response_class=HTMLResponse)
def partner(services: ServicesDep) -> str:
    html = (PAGES / "partner.html").read_text()
    return html.replace("{rpc_url}", escape(services.settings.public_rpc)).replace(
        "{recorded_topic}", PLOGGING_RECORDED
    )
