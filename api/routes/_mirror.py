"""What the mirror's read routes share: paging and address parameters, the errors they document."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import Query, Response
from sqlalchemy import Connection, Engine

from ..schemas import ErrorResponse

INT64_MAX = 2**63 - 1  # SQL integers are signed 64-bit: anything larger is refused, never sent to SQL
UINT32_MAX = 2**32 - 1
ADDRESS = r"^0x[0-9a-fA-F]{40}$"

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Rows to skip.")]
ResidentQuery = Annotated[
    str | None, Query(pattern=ADDRESS, description="Only this resident's (0x + 40 hex).")
]
AreaCodeQuery = Annotated[
    int | None, Query(alias="areaCode", ge=0, le=UINT32_MAX, description="Only this area (uint32).")
]

INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorResponse,
        "description": "A parameter is malformed or out of range; `field` names it.",
    }
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No such record."}}


@functools.lru_cache(maxsize=8)
def _deferred(engine: Engine) -> Engine:
    return engine.execution_options(sqlite_deferred=True)


@contextmanager
def mirror_read(engine: Engine) -> Iterator[Connection]:
    """One read transaction on a Core connection (on SQLite deferred: it never waits for a writer).
    Lighter than the `ReadSessionDep` session: no ORM session, and no generator dependency, which
    FastAPI enters and leaves in the thread pool, two extra hops per request."""
    with _deferred(engine).connect() as conn:
        yield conn  # closing the connection rolls the read transaction back


def json_bytes(content: Any) -> bytes:
    """The answer's JSON, serialized once by orjson. Integers past 64 bits (exact sums) fall back to
    the standard encoder, as Starlette's JSONResponse would write them."""
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(content: Any) -> Response:
    """The route's answer as JSON (`json_bytes`). The read routes return the query's public shape,
    which is already their response model's, so FastAPI's validation of it again is skipped
    (`tests/e2e/test_reads.py` checks the shapes); the lean read path (api/readpath.py) sends the
    same bytes."""
    return Response(json_bytes(content), media_type="application/json")
