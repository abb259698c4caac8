"""Requests per client IP and per credential, before anything else reads the request: 429
problem+json with `Retry-After` (seconds) and `RateLimit-Limit`/`-Remaining`/`-Reset`.

Every request counts against its IP (`ESG_RATE_LIMIT_IP`); one that carries a credential (an
`Authorization` header: platform token, staff bearer; an `X-Partner-Key`; the staff session
cookie) also counts against that credential's own limit (`ESG_RATE_LIMIT_CLIENT`), keyed by a hash
of it. Nothing is validated here: a made-up credential only adds a bucket, while the IP limit still
applies; and nothing a client merely names (a platform id in a webhook's path) picks a bucket, or
anyone could exhaust a platform's. Residents' own limits (`ESG_RESIDENT_RATE_PER_MINUTE`,
`ESG_RESIDENT_DAILY_CAP`) are the ledger's, at acceptance (ledger/outbox.py).

The IP is the peer's, unless the peer is in `ESG_TRUSTED_PROXIES`: then the nearest hop of
`X-Forwarded-For` that is not a trusted proxy. Counting is a sliding window (`limits`; an exact
moving window with `ESG_RATE_LIMIT_STRATEGY=moving`), in this worker's memory by default: with
`ESG_API_WORKERS=N`, a client spread over N workers' connections may get up to N times the limit
(one keep-alive connection stays on one worker and gets exactly it).
`ESG_RATE_LIMIT_STORAGE=redis://…` shares the count between workers and servers.
"""

from __future__ import annotations

import hashlib
import math
import time
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from limits.strategies import SlidingWindowCounterRateLimiter as SlidingWindowCounter
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.settings import Settings

from .errors import PROBLEM_MEDIA_TYPE, problem_bytes

__all__ = ["RateLimit", "client_ip"]

Network = IPv4Network | IPv6Network
_CREDENTIAL_HEADERS = (b"authorization", b"x-partner-key", b"x-api-key")
_SESSION_COOKIE = "esg_staff_session"


def _parse(rates: str) -> list[RateLimitItem]:
    return parse_many(rates) if rates.strip() else []


class _Networks:
    """Membership of an address in a list of networks, remembered per address string."""

    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks
        self._seen: dict[str, bool] = {}

    def __contains__(self, address: str) -> bool:
        found = self._seen.get(address)
        if found is None:
            if len(self._seen) > 65_536:
                self._seen.clear()
            try:
                parsed: IPv4Address | IPv6Address = ip_address(address)
                found = any(parsed in n for n in self.networks)
            except ValueError:
                found = False
            self._seen[address] = found
        return found


def client_ip(peer: str, forwarded: str | None, trusted: _Networks) -> str:
    """The client's address: the peer's, or through trusted proxies the nearest untrusted hop."""
    address = peer
    if forwarded and trusted.networks and peer in trusted:
        for hop in reversed(forwarded.split(",")):
            address = hop.strip()
            if address not in trusted:
                break
    return address


class RateLimit:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.ip_limits = _parse(settings.rate_limit_ip)
        self.client_limits = _parse(settings.rate_limit_client)
        strategy = (
            MovingWindowRateLimiter if settings.rate_limit_strategy == "moving" else SlidingWindowCounter
        )
        self.limiter: RateLimiter = strategy(storage_from_string(settings.rate_limit_storage))
        self.exempt = _Networks(settings.rate_limit_exempt_networks)
        self.trusted = _Networks([ip_network(str(n)) for n in settings.trusted_proxies])
        self.on = bool(self.ip_limits or self.client_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.on or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        forwarded: str | None = None
        credential: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                hops = value.decode("latin-1")
                forwarded = hops if forwarded is None else f"{forwarded},{hops}"
            elif name in _CREDENTIAL_HEADERS or (name == b"cookie" and _SESSION_COOKIE.encode() in value):
                credential = value if credential is None else credential + b"\n" + value
        peer = scope["client"][0] if scope.get("client") else ""
        ip = client_ip(peer, forwarded, self.trusted)
        if ip in self.exempt:
            await self.app(scope, receive, send)
            return
        refused = self._hit(self.ip_limits, "ip", ip)
        if refused is None and credential is not None:
            key = hashlib.sha256(credential).hexdigest()[:32]
            refused = self._hit(self.client_limits, "client", key)
        if refused is None:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, send, *refused)

    def _hit(self, items: list[RateLimitItem], scope: str, key: str) -> tuple[RateLimitItem, str, str] | None:
        for item in items:
            if not self.limiter.hit(item, scope, key):
                return item, scope, key
        return None

    async def _refuse(self, scope: Scope, send: Send, item: RateLimitItem, kind: str, key: str) -> None:
        stats = self.limiter.get_window_stats(item, kind, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        who = "this IP address" if kind == "ip" else "this credential"
        body = problem_bytes(
            429,
            "rate_limited",
            f"too many requests from {who}: at most {item.amount} per {item.multiples} "
            f"{item.GRANULARITY.name}(s); retry after {wait} s",
            instance=scope.get("path"),
        )
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(wait).encode()),
            (b"ratelimit-limit", str(item.amount).encode()),
            (b"ratelimit-remaining", str(max(0, stats.remaining)).encode()),
            (b"ratelimit-reset", str(wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
