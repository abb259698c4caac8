"""The three web pages: /plaza (residents), /dashboard (ESG team), /partner (partners).

/plaza is built from `web/` by Vite (`scripts/setup` runs `npm ci` and `npm run build` there) into
`api/pages/dist/`: the page itself is never cached, its hashed assets under /assets/ are cached for a
year. Without a build the page answers 503 and says how to make one. The same build holds /dashboard (the
ESG team's workspace) and /partner (the partner desk), whose `{rpc_url}` placeholder becomes the node URL
the page offers browsers (ESG_PUBLIC_RPC_URL, default ESG_RPC_URL).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from ..deps import ServicesDep

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGES = Path(__file__).resolve().parent.parent / "pages"
DIST = PAGES / "dist"
ASSETS = DIST / "assets"
NO_CACHE = {"Cache-Control": "no-cache"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}

_NOT_BUILT = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>페이지 준비 중 · Page not built</title></head>
<body style="font: 18px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>이 페이지는 아직 빌드되지 않았습니다</h1>
<p>서버 관리자는 저장소에서 <code>scripts/setup</code>을 실행해 주세요.</p>
<h2 lang="en">This page has not been built yet</h2>
<p lang="en">The server's operator should run <code>scripts/setup</code> in the repository: it builds
the pages from <code>web/</code> (<code>npm ci</code>, <code>npm run build</code>)
into <code>{dist}</code>.</p>
</body></html>
"""


def _built(name: str, values: dict[str, str] | None = None) -> HTMLResponse:
    page = DIST / f"{name}.html"
    if not page.is_file():
        return HTMLResponse(
            _NOT_BUILT.replace("{dist}", escape(str(DIST))), status_code=503, headers=NO_CACHE
        )
    html = page.read_text(encoding="utf-8")
    for key, value in (values or {}).items():
        html = html.replace("{" + key + "}", escape(value))
    return HTMLResponse(html, headers=NO_CACHE)


@router.get("/plaza", response_class=HTMLResponse)
def plaza() -> HTMLResponse:
    return _built("plaza")


@router.get("/assets/{name:path}")
def asset(name: str) -> FileResponse:
    path = (ASSETS / name).resolve()
    if not path.is_relative_to(ASSETS.resolve()) or not path.is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    return FileResponse(path, headers=IMMUTABLE)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    return _built("dashboard")


@router.get("/partner", response_class=HTMLResponse)
def partner(services: ServicesDep) -> HTMLResponse:
    return _built("partner", {"rpc_url": services.settings.public_rpc})
