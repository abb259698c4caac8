"""CORS for metaverse web clients (`ESG_CORS_ORIGINS`); none configured means same-origin only."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from ledger.settings import Settings

# What a browser script may read from an answer besides the simple headers.
_EXPOSED = ["X-Request-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]


def install_cors(app: FastAPI, settings: Settings) -> None:
    origins = settings.cors_origins
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=settings.cors_methods,
        allow_headers=settings.cors_headers,
        # Cookies cross-origin only for origins named one by one: a wildcard never gets them.
        allow_credentials=settings.cors_credentials and "*" not in origins,
        expose_headers=_EXPOSED,
        max_age=600,
    )
