"""A small JSON-RPC client over HTTP with batching: the one transport the relayer, indexer and API share.

web3.py stays the tool for deployment and ad-hoc calls; the hot paths (batched receipts, raw
transactions, eth_getLogs) go through here because they need batching and raw JSON. It runs on urllib3's
connection pool: the relayer and indexer make tens of calls a second, and a small call cost ~140 µs of
CPU with the standard library's client, ~250 µs with urllib3 and ~600 µs with httpx (docs/benchmarks.md).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
import urllib3

from ..errors import ChainError, RpcError


class Transport(Protocol):
    def call(self, method: str, params: Sequence[Any] = ()) -> Any: ...

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any | RpcError]: ...


def display_url(url: str) -> str:
    """A node URL fit for logs and errors: scheme, host and port only. Providers put API keys in the
    path, the query or the user part (`https://eth.example/v2/<key>`); those never leave here."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    shown = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"
    return shown + ("/…" if parts.path.strip("/") or parts.query or parts.username else "")


class HttpRpc:
    """JSON-RPC over HTTP. `call` raises RpcError; `batch` returns each result or its RpcError in order."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.where = display_url(url)
        # Thread-safe; connections are kept alive. Retries are the callers' (each knows what is safe
        # to repeat), so a failure surfaces at once as a ChainError.
        self._pool = urllib3.PoolManager(
            maxsize=32,  # connections kept per node: the relayer pre-flights its lanes in parallel
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            headers={"content-type": "application/json"},
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.clear()

    def _reserve_ids(self, n: int) -> int:
        with self._lock:
            first = next(self._ids)
            for _ in range(n - 1):
                next(self._ids)
            return first

    def _post(self, body: Any, what: str) -> Any:
        try:
            response = self._pool.request("POST", self.url, body=orjson.dumps(body))
        except urllib3.exceptions.HTTPError as exc:
            raise ChainError(
                f"{what}: cannot reach the node at {self.where}: {exc.__class__.__name__}"
            ) from None  # the cause would repeat the URL, and a provider's URL holds its API key
        if response.status != 200:
            text = response.data[:200].decode("utf-8", "replace")
            raise ChainError(f"{what}: the node at {self.where} answered HTTP {response.status}: {text}")
        try:
            # orjson: eth_getLogs answers run to megabytes, and json.loads was a tenth of indexing time
            return orjson.loads(response.data)
        except ValueError as exc:
            raise ChainError(f"{what}: the node answered invalid JSON") from exc

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        reply = self._post(
            {"jsonrpc": "2.0", "id": self._reserve_ids(1), "method": method, "params": list(params)}, method
        )
        if "error" in reply:
            err = reply["error"]
            raise RpcError(method, int(err.get("code", 0)), str(err.get("message", "")), err.get("data"))
        return reply.get("result")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any | RpcError]:
        if not calls:
            return []
        first = self._reserve_ids(len(calls))
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        replies = self._post(body, f"batch of {len(calls)}")
        if not isinstance(replies, list):
            err = replies.get("error", {}) if isinstance(replies, dict) else {}
            raise RpcError("batch", int(err.get("code", 0)), str(err.get("message", "not a batch reply")))
        by_id = {r.get("id"): r for r in replies}
        out: list[Any | RpcError] = []
        for i, (method, _) in enumerate(calls):
            r = by_id.get(first + i)
            if r is None:
                out.append(RpcError(method, 0, "no reply in batch"))
            elif "error" in r:
                e = r["error"]
                out.append(RpcError(method, int(e.get("code", 0)), str(e.get("message", "")), e.get("data")))
            else:
                out.append(r.get("result"))
        return out
