"""Every error leaves the API as RFC 9457 problem details (`application/problem+json`).

    {"type": "https://esg-ledger.dev/problems/<code>", "title": "...", "status": 422,
     "detail": "...", "instance": "/v1/actions/prepare",
     "code": "<stable machine code>", "field": "payload.trashGrams" | null,
     "errors": [{"field": "...", "rule": "<pydantic error type>", "message": "..."}]}   # validation

`code` is the stable machine code (the `type` URI is derived from it), `field` the dotted path of the
offending input, `errors` every problem a validation found. A 5xx never carries an exception's text:
that goes to the log with the request id. docs/api.md "Errors" documents the model for clients;
`api.openapi` documents it in the OpenAPI document as the `Problem` schema.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ledger.errors import ActionError, BonusError, ChainError, CustodyError
from ledger.staff.errors import StaffError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "entry_error",
    "install",
    "problem",
    "problem_bytes",
    "problem_response",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://esg-ledger.dev/problems/"

# What a client is told for a 5xx: fixed sentences, never the exception's text.
_SERVER_DETAIL = {
    "chain_unavailable": "the chain node is unavailable; try again later",
    "internal_error": "the server could not answer this request; it is logged with its request id",
}


def _request_id() -> str | None:
    """The request id the logging middleware assigned (asgi-correlation-id), when it is installed."""
    try:
        from asgi_correlation_id import correlation_id
    except ImportError:  # pragma: no cover - a dependency of the product; tolerated absent
        return None
    value = correlation_id.get()
    return value if isinstance(value, str) else None


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The problem details object for an error (RFC 9457 members, then this API's extensions)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or _title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "field": field,
    }
    if errors is not None:
        body["errors"] = errors
    request_id = _request_id()
    if request_id:
        body["requestId"] = request_id
    return body


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_bytes(status: int, code: str, detail: str, **members: Any) -> bytes:
    return orjson.dumps(problem(status, code, detail, **members))


def problem_response(
    request: Request | None,
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    instance = request.url.path if request is not None else None
    body = problem_bytes(status, code, detail, instance=instance, field=field, errors=errors)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def entry_error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """One refused entry inside a 2xx answer (a batch's results): {"error": {code, message, field}}."""
    return {"error": {"code": code, "message": message, "field": field}}


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"] if loc and loc[0] == "body" else [str(p) for p in loc]
    return ".".join(parts)


def _message(error: dict[str, Any]) -> str:
    return "is required" if error.get("type") == "missing" else str(error.get("msg"))


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    found = list(exc.errors())
    first = found[0] if found else {}
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return problem_response(request, 400, "malformed_json", f"the body is not valid JSON: {detail}")
    errors = [
        {
            "field": _location(tuple(e.get("loc", ()))) or None,
            "rule": str(e.get("type")),
            "message": _message(e),
        }
        for e in found
    ]
    field = errors[0]["field"] if errors else None
    detail = _message(first) if found else "the request is invalid"
    return problem_response(request, 422, "invalid_request", detail, field=field, errors=errors)


def _server_error(request: Request, status: int, code: str, exc: BaseException) -> Response:
    log.error(
        "%s %s: %s (%s: %s), request id %s",
        request.method,
        request.url.path,
        code,
        type(exc).__name__,
        exc,
        _request_id(),
        exc_info=exc if code == "internal_error" else None,
    )
    detail = _SERVER_DETAIL.get(code, HTTPStatus(status).phrase.lower() + "; try again later")
    return problem_response(request, status, code, detail)


def _coded(request: Request, exc: Exception, status: int, code: str, detail: str, **kw: Any) -> Response:
    if status >= 500:
        return _server_error(request, status, code, exc)
    return problem_response(request, status, code, detail, **kw)


def install(app: FastAPI) -> None:
    @app.exception_handler(ActionError)
    async def _action_error(request: Request, exc: ActionError) -> Response:
        headers = {"Retry-After": str(getattr(exc, "retry_after", 60))} if exc.status == 429 else None
        return _coded(request, exc, exc.status, exc.code, exc.message, field=exc.field, headers=headers)

    @app.exception_handler(CustodyError)
    async def _custody_error(request: Request, exc: CustodyError) -> Response:
        field = getattr(exc, "field", None)
        return _coded(request, exc, exc.status, exc.code, str(exc), field=field)

    @app.exception_handler(BonusError)
    async def _bonus_error(request: Request, exc: BonusError) -> Response:
        return _coded(request, exc, exc.status, exc.code, str(exc))

    @app.exception_handler(StaffError)
    async def _staff_error(request: Request, exc: StaffError) -> Response:
        headers: dict[str, str] | None = None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif exc.status == 429:
            until = getattr(exc, "until", None)
            wait = max(1, int(until - time.time()) + 1) if isinstance(until, int | float) else 60
            headers = {"Retry-After": str(wait)}
        return _coded(request, exc, exc.status, exc.code, str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return validation_problem(request, exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 409: "conflict"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code >= 500:
            return _server_error(request, exc.status_code, code, exc)
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(ChainError)
    async def _chain(request: Request, exc: ChainError) -> Response:
        return _server_error(request, 503, "chain_unavailable", exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _server_error(request, 500, "internal_error", exc)
