"""The read load of `esg-ledger bench api`: a lean HTTP/1.1 keep-alive client on asyncio protocols (uvloop
when installed), one request in flight per connection (no pipelining), requests built beforehand.

A Python client costs the server's two cores far less this way than with httpx (~1 ms of CPU a
request) or asyncio streams; its own CPU is measured and reported beside the figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._api_data import Dataset

# The read mix: each resident's own page, the status of an action (clients poll it after submitting),
# and the public feedback list (newest first, pages, a status, a category, one resident's items).
MIX = {"resident": 0.4, "action": 0.4, "feedback": 0.2}


@dataclass(frozen=True)
class Request:
    route: str
    path: str
    raw: bytes


def build_requests(data: Dataset, count: int, seed: int = 7) -> list[Request]:
    rng = random.Random(seed)
    routes = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    out = []
    for route in routes:
        if route == "resident":
            path = f"/v1/residents/{rng.choice(data.residents)}"
        elif route == "action":
            path = f"/v1/actions/{rng.choice(data.action_ids)}"
        else:
            path = _feedback_path(rng, data)
        raw = f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n\r\n".encode()
        out.append(Request(route, path, raw))
    return out


def _feedback_path(rng: random.Random, data: Dataset) -> str:
    roll = rng.random()
    if roll < 0.5:
        return f"/v1/feedback?limit=20&offset={20 * rng.randrange(10)}"
    if roll < 0.7:
        return f"/v1/feedback?status={rng.choice(['submitted', 'under_review', 'answered'])}&limit=20"
    if roll < 0.85 and data.categories:
        return f"/v1/feedback?category={rng.choice(data.categories)}&limit=20"
    if data.feedback_residents:
        return f"/v1/feedback?resident={rng.choice(data.feedback_residents)}"
    return "/v1/feedback"


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: Any = None  # asyncio's or uvloop's transport
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"content-length:")
        if at < 0:
            self.waiter.set_exception(RuntimeError("a response without content-length"))
            return
        length = int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


async def _connect(port: int) -> _Connection:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
    return conn


@dataclass
class PhaseResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    client_cpu_s: float = 0.0
    behind_max_ms: float = 0.0  # open loop: how late the client sent its latest request

    def merge(self, other: PhaseResult) -> None:
        """Adds another round of the same phase."""
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies_ms += other.latencies_ms
        for route, values in other.by_route.items():
            self.by_route[route] += values
        for status, n in other.statuses.items():
            self.statuses[status] += n
        self.client_cpu_s += other.client_cpu_s
        self.behind_max_ms = max(self.behind_max_ms, other.behind_max_ms)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else None,
            "p50_ms": percentile(self.latencies_ms, 0.50),
            "p90_ms": percentile(self.latencies_ms, 0.90),
            "p99_ms": percentile(self.latencies_ms, 0.99),
            "max_ms": round(max(self.latencies_ms), 2) if self.latencies_ms else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "client_cpu_cores": round(self.client_cpu_s / self.seconds, 3) if self.seconds else None,
            "client_cpu_us_per_request": round(self.client_cpu_s * 1e6 / self.requests, 1)
            if self.requests
            else None,
            "by_route": {
                route: {
                    "requests": len(v),
                    "p50_ms": percentile(v, 0.50),
                    "p99_ms": percentile(v, 0.99),
                }
                for route, v in sorted(self.by_route.items())
            },
        }
        if self.behind_max_ms:
            out["client_behind_max_ms"] = round(self.behind_max_ms, 2)
        return out


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _record(result: PhaseResult, req: Request, status: int, ms: float) -> None:
    result.requests += 1
    result.statuses[status] += 1
    if status != 200:
        result.errors += 1
    result.latencies_ms.append(ms)
    result.by_route[req.route].append(ms)


async def closed_loop(
    port: int, requests: list[Request], *, connections: int, seconds: float, warmup: float
) -> PhaseResult:
    """`connections` clients, each sending its next request as soon as the last one is answered."""
    conns = [await _connect(port) for _ in range(connections)]
    result = PhaseResult()
    state = {"i": 0, "measuring": False}
    start = time.monotonic()
    stop_at = start + warmup + seconds

    async def client(conn: _Connection) -> None:
        n = len(requests)
        while (now := time.monotonic()) < stop_at:
            req = requests[state["i"] % n]
            state["i"] += 1
            status, _ = await conn.request(req.raw)
            if state["measuring"]:
                _record(result, req, status, (time.monotonic() - now) * 1000)

    async def timer() -> None:
        await asyncio.sleep(warmup)
        state["measuring"] = True
        cpu0, t0 = _cpu(), time.monotonic()
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        result.client_cpu_s, result.seconds = _cpu() - cpu0, time.monotonic() - t0

    await asyncio.gather(timer(), *(client(c) for c in conns))
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    return result


async def open_loop(
    port: int, requests: list[Request], *, rate: float, seconds: float, connections: int
) -> PhaseResult:
    """Request i is due at start + i/rate and is timed from then, however late the client sends it:
    a server that falls behind is charged for the wait (no coordinated omission)."""
    conns = [await _connect(port) for _ in range(connections)]
    total = int(rate * seconds)
    result = PhaseResult()
    state = {"i": 0}
    cpu0 = _cpu()
    start = time.monotonic() + 0.05

    async def client(conn: _Connection) -> None:
        while (i := state["i"]) < total:
            state["i"] += 1
            req = requests[i % len(requests)]
            due = start + i / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            else:
                result.behind_max_ms = max(result.behind_max_ms, -wait * 1000)
            status, _ = await conn.request(req.raw)
            _record(result, req, status, (time.monotonic() - due) * 1000)

    await asyncio.gather(*(client(c) for c in conns))
    result.seconds = time.monotonic() - start
    result.client_cpu_s = _cpu() - cpu0
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    return result


async def answers(port: int, requests: list[Request]) -> list[tuple[int, bytes]]:
    """Each request's status and body, one at a time (to compare the product's with the baseline's)."""
    conn = await _connect(port)
    out = [await conn.request(req.raw) for req in requests]
    if conn.transport is not None:
        conn.transport.close()
    return out


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coro)
