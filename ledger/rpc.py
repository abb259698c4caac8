"""A small JSON-RPC client over HTTP with batching: the one transport the relayer, indexer and API share.

web3.py stays the tool for deployment and ad-hoc calls; the hot paths (batched receipts, raw
transactions, eth_getLogs) go through here because they need batching and raw JSON.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import orjson

from .errors import ChainError, RpcError


class Transport(Protocol):
    def call(self, method: str, params: Sequence[Any] = ()) -> Any: ...

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any | RpcError]: ...


class HttpRpc:
    """JSON-RPC over HTTP. `call` raises RpcError; `batch` returns each result or its RpcError in order."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout, headers={"content-type": "application/json"})
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _reserve_ids(self, n: int) -> int:
        with self._lock:
            first = next(self._ids)
            for _ in range(n - 1):
                next(self._ids)
            return first

    def _post(self, body: Any, what: str) -> Any:
        try:
            response = self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise ChainError(
                f"{what}: cannot reach the node at {self.url}: {exc.__class__.__name__}"
            ) from exc
        if response.status_code != 200:
            raise ChainError(f"{what}: the node answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            # orjson: eth_getLogs answers run to megabytes, and json.loads was a tenth of indexing time
            return orjson.loads(response.content)
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
