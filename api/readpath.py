"""`GET /v1/residents/{address}`, `GET /v1/actions/{id}` and `GET /v1/feedback` without the framework's
and SQLAlchemy's per-request machinery.

They are the reads a city's apps make most (`esg-ledger bench api`, docs/benchmarks.md). In process,
a read spent more CPU in routing, dependency solving, the thread hop and SQLAlchemy's execution of
each of its ten or so statements than SQLite spent answering them. This ASGI middleware sits inside
the edge (rate limits, metrics, request ids, CORS and the body limit still apply) and serves those
three routes itself:

- It matches each route by the route's own path regex and validates the parameters with a
  pydantic model made of the route's own parameter fields (types, constraints, aliases, defaults),
  so the rules are the ones in the OpenAPI. (FastAPI's per-field validation cost 75 µs a request.)
- It answers with the route's own read function (`read_resident`, `read_status`, `read_items`) and
  the same JSON bytes (`json_bytes`), run on `RawReads`: the prebuilt statements of
  `indexer/queries.py`, compiled once, executed on the pool's DBAPI connection in one read
  transaction (SQLite: a deferred BEGIN; PostgreSQL: REPEATABLE READ, READ ONLY), with SQLAlchemy's
  own bind and result type processors.

Anything else goes to the app unchanged: other paths and methods, an invalid parameter (the route
answers 422 as problem details), an unknown action (404), a statement it cannot run raw. With
`ESG_READ_FASTPATH=false` the routes answer everything; `tests/e2e/test_read_fastpath.py` checks the
two give the same bytes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import Connection, Dialect
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from .routes import actions, feedback, residents
from .routes._mirror import json_bytes
from .services import Services

__all__ = ["RawReads", "ReadFastPath"]

Read = Callable[..., Any]  # (conn, services, **params) -> the answer, or None for "let the route answer"
# the routes served (their router, endpoint), with the read function each route's body calls. The
# app includes these routers as they are; no earlier route takes a path their parameters accept
# (`/v1/residents/me` is no address).
_READS: list[tuple[APIRouter, Callable[..., Any], Read]] = [
    (residents.router, residents.resident, residents.read_resident),
    (actions.router, actions.status, actions.read_status),
    (feedback.router, feedback.feedback_items, feedback.read_items),
]
_HEADERS = [(b"content-type", b"application/json")]


class Unsupported(Exception):
    """A statement `RawReads` does not run itself (the route answers instead)."""


class ReadFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[_Served] | None = None
        self._statements: dict[int, _Statement] = {}
        self._sqlite: Any = None  # this worker's own connection, used on the event loop's thread only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = self._match(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        body = None
        if hit is not None:
            route, read, params = hit
            services: Services = scope["app"].state.services
            if services.engine.dialect.name == "sqlite":
                body = self._answer(services, read, params)  # in WAL mode a read never waits: inline
            else:
                body = await run_in_threadpool(self._answer, services, read, params)
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # metrics label it by the route's template, as when routed
        headers = [(b"content-length", str(len(body)).encode()), *_HEADERS]  # Starlette's order
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _match(self, scope: Scope) -> tuple[APIRoute, Read, dict[str, Any]] | None:
        """The route, its read and its validated parameters, or None: not ours, or not valid."""
        if scope.get("root_path"):
            return None
        if self._routes is None:
            self._routes = _served()
        for route, params, read in self._routes:
            found = route.path_regex.match(scope["path"])
            if found is None:
                continue
            raw = {k: route.param_convertors[k].convert(v) for k, v in found.groupdict().items()}
            if route.dependant.query_params:  # the last of repeated names, as FastAPI takes it
                raw = dict(QueryParams(scope["query_string"])) | raw
            try:
                return route, read, dict(params.model_validate(raw))
            except ValidationError:
                return None  # the route answers: 422, as problem details
        return None

    def _answer(self, services: Services, read: Read, params: dict[str, Any]) -> bytes | None:
        engine = services.engine
        if engine.dialect.name == "sqlite":
            if self._sqlite is None:
                self._sqlite = engine.raw_connection()  # with the engine's pragmas (ledger/db.py)
                self._sqlite.detach()  # never back to the pool: no checkout, no wait for one
            dbapi, pooled = self._sqlite, False
        else:
            dbapi, pooled = engine.raw_connection(), True
        try:
            with RawReads(dbapi, engine.dialect, self._statements).transaction(close=pooled) as conn:
                content = read(cast(Connection, conn), services, **params)
        except Unsupported:
            return None
        return None if content is None else json_bytes(content)


_Served = tuple[APIRoute, type[BaseModel], Read]


def _served() -> list[_Served]:
    """Each served route with a model of its path and query parameters, built from its own fields."""
    served: list[_Served] = []
    for router, endpoint, read in _READS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.endpoint is endpoint and route.methods == {"GET"}:
                d = route.dependant
                if d.header_params or d.cookie_params or d.body_params:
                    continue  # only path and query parameters are validated here
                fields = {f.name: (f.field_info.annotation, f.field_info) for f in d.path_params}
                fields |= {f.name: (f.field_info.annotation, f.field_info) for f in d.query_params}
                model = create_model(f"{endpoint.__name__}_parameters", **fields)  # type: ignore[call-overload]
                served.append((route, model, read))
    return served


@dataclass
class _Statement:
    """A prebuilt statement compiled once for the engine's dialect and paramstyle."""

    source: Any  # the statement (kept alive: its id is the cache's key)
    sql: str
    positions: tuple[str, ...] | None  # bind names in order (qmark), or None (named, pyformat)
    defaults: dict[str, Any]  # the statement's own values (limits, literals)
    expanding: frozenset[str]
    binders: dict[str, Callable[[Any], Any]]
    fields: tuple[str, ...]  # the result's keys, as SQLAlchemy's rows name them
    row: Any
    results: list[Callable[[Any], Any] | None] | None = field(default=None)  # from the first result

    @classmethod
    def compile(cls, stmt: Any, dialect: Dialect) -> _Statement:
        compiled = stmt.compile(dialect=dialect)
        if compiled.escaped_bind_names or dialect.paramstyle not in ("qmark", "pyformat"):
            raise Unsupported(dialect.paramstyle)
        defaults, binders, expanding = {}, {}, set()
        for bind, name in compiled.bind_names.items():
            if bind.literal_execute or (bind.key != name and bind.required):
                raise Unsupported(name)
            if not bind.required:
                defaults[name] = bind.effective_value
            if bind.expanding:
                expanding.add(name)
            binder = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if binder is not None:
                binders[name] = binder
        fields = tuple(stmt.selected_columns.keys())
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        row = collections.namedtuple("Row", fields, rename=True)  # type: ignore[misc]
        return cls(stmt, compiled.string, positions, defaults, frozenset(expanding), binders, fields, row)

    def arguments(self, params: dict[str, Any]) -> tuple[str, Any]:
        """The SQL with expanding lists spread out, and the DBAPI arguments."""
        values = self.defaults | params
        for name, binder in self.binders.items():
            if name in self.expanding:
                values[name] = [binder(v) for v in values[name]]
            elif name in values:
                values[name] = binder(values[name])
        sql = self.sql
        for name in self.expanding:
            items = values.pop(name)
            if not items:
                raise Unsupported(f"empty {name}")  # SQLAlchemy renders an empty set of its own
            if self.positions is None:
                names = [f"{name}__{i}" for i in range(len(items))]
                values.update(zip(names, items, strict=True))
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join(f"%({n})s" for n in names))
            else:
                values[name] = items
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(items)))
        if self.positions is None:
            return sql, values
        args: list[Any] = []
        for name in self.positions:
            if name in self.expanding:
                args.extend(values[name])
            else:
                args.append(values[name])
        return sql, args


class RawReads:
    """What the mirror's read queries use of a SQLAlchemy `Connection` (`execute(statement, params)`
    and `dialect`), on a DBAPI connection: the same statements, bind values and result types."""

    def __init__(self, dbapi: Any, dialect: Dialect, statements: dict[int, _Statement]) -> None:
        self.dbapi = dbapi
        self.dialect = dialect
        self._statements = statements

    def transaction(self, *, close: bool) -> _Transaction:
        """One read transaction; `close` gives the connection back to the pool after it."""
        return _Transaction(self, close)

    def execute(self, stmt: Any, params: dict[str, Any] | None = None) -> _Result:
        statement = self._statements.get(id(stmt))
        if statement is None or statement.source is not stmt:
            if len(self._statements) > 256:
                raise Unsupported("not a prebuilt statement")  # built per request: the route runs it
            statement = self._statements[id(stmt)] = _Statement.compile(stmt, self.dialect)
        sql, args = statement.arguments(params or {})
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql, args)
            rows = cursor.fetchall()
            if statement.results is None:
                statement.results = [
                    c.type.dialect_impl(self.dialect).result_processor(self.dialect, d[1])
                    for c, d in zip(stmt.selected_columns, cursor.description, strict=True)
                ]
        finally:
            cursor.close()
        make, results = statement.row._make, statement.results
        if any(results):
            typed = ([v if f is None else f(v) for f, v in zip(results, r, strict=True)] for r in rows)
            return _Result([make(r) for r in typed])
        return _Result([make(r) for r in rows])


class _Transaction:
    """One read transaction, one snapshot: every statement of a request sees the same state."""

    def __init__(self, reads: RawReads, close: bool) -> None:
        self.reads = reads
        self.close = close

    def __enter__(self) -> RawReads:
        raw = self.reads.dbapi
        cursor = raw.cursor()
        if self.reads.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # deferred: never waits for a writer (ledger/db.py)
        else:  # psycopg opens the transaction itself, before its first statement
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.close()
        return self.reads

    def __exit__(self, *_exc: object) -> None:
        raw = self.reads.dbapi
        try:
            raw.rollback()
        finally:
            if self.close:
                raw.close()  # back to the pool


@dataclass
class _Result:
    rows: list[Any]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        (row,) = self.rows
        return row

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> Iterator[Any]:
        return (r[0] for r in self.rows)
