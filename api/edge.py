"""The middleware at the public edge, in order from the outside in (pure ASGI, cheap per request):

request id → access log → metrics → CORS → rate limits → (body limit → read and submit fast paths → routes)

The request id is outermost so that every line logged for a request carries it; metrics and the
access log see every answer, the 429s and CORS preflights included; CORS wraps the rate limiter
so that a browser can read a 429's problem details and Retry-After.
"""

from __future__ import annotations

from fastapi import FastAPI

from ledger.settings import Settings

from .cors import install_cors
from .logs import AccessLog, RequestId
from .metrics import RequestMetrics
from .ratelimit import RateLimit


def edge(app: FastAPI, settings: Settings) -> None:
    """Adds the edge middleware; call it after the app's own (each one added wraps the ones before)."""
    app.add_middleware(RateLimit, settings=settings)
    install_cors(app, settings)
    app.add_middleware(RequestMetrics)
    if settings.access_log_on:
        app.add_middleware(AccessLog)
    app.add_middleware(RequestId)
