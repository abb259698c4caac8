"""Prometheus metrics: requests and latencies by route template (a pure ASGI middleware), and the
ledger's state as gauges computed at scrape time (`GET /metrics`, docs/operations.md "Metrics").

Request metrics are labelled by the route's template (`/v1/residents/{address}`), never the raw
path: a path that matches no route is `unmatched`, an unusual method `OTHER`. With several API
workers (`ESG_API_WORKERS` > 1) they are kept by prometheus_client's multiprocess mode in
`<data dir>/prometheus` (emptied by `esg-ledger serve` at start) and summed at scrape; the process
metrics (CPU, memory, file descriptors) are then not exported, since each would describe only the
worker that happened to answer. State gauges come from the database and the jobs' state file
(ledger/health.py), whichever worker answers, cached for a few seconds.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from ipaddress import ip_address
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.db import read_scope

from .deps import ServicesDep
from .jobstate import job_state
from .services import Services

__all__ = ["RequestMetrics", "route_template", "router"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATE_TTL = 2.0  # seconds a scrape's database figures are reused
_RANK = {"ok": 0, "degraded": 1, "down": 2}

REQUESTS = Counter(
    "esg_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "esg_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=_BUCKETS,
)


def route_template(scope: Scope) -> str:
    """The matched route's template (`/v1/residents/{address}`), a mount's prefix, or `unmatched`."""
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path_format", None) or getattr(route, "path", "unmatched"))
    if scope["path"] == "/v1/actions":  # served by the fast path (api/fastpath.py) before routing
        return "/v1/actions"
    if "endpoint" in scope:  # a mount (/static): its prefix
        return str(scope.get("root_path") or "unmatched")
    return "unmatched"


class RequestMetrics:
    """Counts and times every HTTP request; a few microseconds each (children are cached)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_template(scope)
            counter = self._counters.get((method, route, status))
            if counter is None:
                counter = self._counters[(method, route, status)] = REQUESTS.labels(
                    method, route, str(status)
                )
            timer = self._timers.get((method, route))
            if timer is None:
                timer = self._timers[(method, route)] = LATENCY.labels(method, route)
            counter.inc()
            timer.observe(time.perf_counter() - started)


class _StateCollector(Collector):
    """The outbox, relayer, indexer and health as gauges, read at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._cached: tuple[float, list[Metric]] = (-1e9, [])

    def collect(self) -> Iterator[Metric]:
        at, metrics = self._cached
        if time.monotonic() - at > _STATE_TTL:
            metrics = self._gather()
            self._cached = (time.monotonic(), metrics)
        yield from metrics

    def _gather(self) -> list[Metric]:
        services = self.services
        health, state = job_state(services).health()
        out: list[Metric] = []
        g = GaugeMetricFamily(
            "esg_health", "Each health check: 0 ok, 1 degraded, 2 down.", labels=["check", "code"]
        )
        for name, check in health.checks.items():
            g.add_metric([name, check.code], _RANK[check.status])
        out.append(g)
        pending = GaugeMetricFamily(
            "esg_accept_queue_depth", "Actions waiting for this worker's group commit (ledger/committer.py)."
        )
        queue = services.__dict__.get("accept_queue")
        pending.add_metric([], getattr(queue, "_count", 0))
        out.append(pending)
        if state is not None:
            if state.head is not None:
                out.append(
                    GaugeMetricFamily("esg_chain_head_block", "The node's head (jobs).", value=state.head)
                )
            if state.indexed is not None:
                out.append(
                    GaugeMetricFamily("esg_indexer_block", "The mirror's cursor.", value=state.indexed)
                )
            if state.head is not None and state.indexed is not None:
                lag = max(0, state.head - state.indexed)
                out.append(
                    GaugeMetricFamily("esg_indexer_lag_blocks", "Blocks the mirror is behind.", value=lag)
                )
            b = GaugeMetricFamily("esg_relayer_balance_eth", "Each relayer key's balance.", labels=["key"])
            for key, wei in sorted(state.balances.items()):
                b.add_metric([key], wei / 10**18)
            out.append(b)
            age = GaugeMetricFamily(
                "esg_job_last_run_age_seconds", "Since each job's last run.", labels=["job"]
            )
            now = time.time()
            for job, run in sorted(state.jobs.items()):
                if run.last_run_at is not None:
                    age.add_metric([job], round(now - run.last_run_at, 3))
            out.append(age)
        if health.checks["database"].status == "ok":
            out.extend(_database_gauges(services))
        return out


def _database_gauges(services: Services) -> list[Metric]:
    with read_scope(services.engine) as session:
        statuses: dict[str, int] = dict(
            session.execute(
                text(
                    "SELECT status, COUNT(*) FROM action WHERE status IN ('queued', 'submitted') "
                    "GROUP BY status"
                )
            ).all()
        )
        in_flight = session.execute(
            text("SELECT COUNT(*) FROM relay_tx WHERE status IN ('signed', 'broadcast')")
        ).scalar_one()
        failures = session.execute(
            text("SELECT error, COUNT(*) FROM action WHERE status = 'failed' GROUP BY error")
        ).all()
    outbox = GaugeMetricFamily("esg_outbox_actions", "Accepted actions not yet settled.", labels=["status"])
    for status in ("queued", "submitted"):
        outbox.add_metric([status], statuses.get(status, 0))
    flight = GaugeMetricFamily(
        "esg_relayer_transactions_in_flight", "Relayer transactions signed or broadcast, not yet settled."
    )
    flight.add_metric([], in_flight)
    by_reason: dict[str, int] = {}
    for error, count in failures:
        reason = (error or "unknown").split("(", 1)[0].strip()[:64] or "unknown"
        by_reason[reason] = by_reason.get(reason, 0) + count
    failed = GaugeMetricFamily(
        "esg_action_failures", "Failed actions by reason (custom error name).", labels=["reason"]
    )
    for reason, count in sorted(by_reason.items()):
        failed.add_metric([reason], count)
    return [outbox, flight, failed]


# -- the endpoint ---------------------------------------------------------------------------------

router = APIRouter(tags=["operations"])


def _registry(services: Services) -> CollectorRegistry:
    found = services.__dict__.get("_metrics_registry")
    if isinstance(found, CollectorRegistry):
        return found
    settings = services.settings
    if settings.api_workers > 1:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(settings.metrics_dir))  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(_StateCollector(services))
    services.__dict__["_metrics_registry"] = registry
    return registry


class _Default(Collector):
    """This process's default metrics (requests, process, platform, GC), beside the state gauges."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def _allowed(services: Services, request: Request, authorization: str | None) -> None:
    token = services.settings.metrics_token
    if token is not None:
        sent = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            raise HTTPException(
                401, "a metrics token is required (Authorization: Bearer …)", {"WWW-Authenticate": "Bearer"}
            )
        return
    peer = request.client.host if request.client else ""
    try:
        local = ip_address(peer).is_loopback
    except ValueError:
        local = False
    if not local or "x-forwarded-for" in request.headers:
        raise HTTPException(403, "metrics are served to this host only unless ESG_METRICS_TOKEN is set")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition format."},
        401: {"description": "ESG_METRICS_TOKEN is set and the request did not carry it."},
        403: {"description": "No ESG_METRICS_TOKEN: only this host's own requests are served."},
    },
)
def metrics(
    services: ServicesDep, request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus metrics: requests by route, the outbox, the relayer, the indexer and health."""
    _allowed(services, request, authorization)
    return Response(generate_latest(_registry(services)), media_type=CONTENT_TYPE_LATEST)
