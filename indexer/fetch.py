"""The fetch stage: `eth_getLogs` over adaptive block ranges, with retries, backoff and batching.

Ranges grow by 5% after each success (up to about `target_logs` logs per range) and shrink when
the provider says "too many results": to the range it suggests when it names one (Alchemy,
Infura), else by half. Transient failures
(timeouts, 5xx, rate limits) are retried with exponential backoff before the error surfaces.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from ledger.chain.rpc import Transport
from ledger.errors import ChainError, RpcError

log = logging.getLogger(__name__)

_TOO_MANY = re.compile(
    r"too many|more than \d+ results|limit|exceed|response size|range is too large|block range", re.IGNORECASE
)
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")


def suggested_end(error: RpcError, start: int) -> int | None:
    """The end block a provider suggests for a range that returned too many logs, if it names one."""
    if isinstance(error.data, dict) and "to" in error.data:
        try:
            return int(str(error.data["to"]), 16)
        except ValueError:
            pass
    match = _SUGGESTED.search(error.rpc_message)
    if match and int(match.group(1), 16) == start:
        return int(match.group(2), 16)
    return None


def is_too_many_results(error: RpcError) -> bool:
    return error.method == "eth_getLogs" and bool(_TOO_MANY.search(error.rpc_message))


class LogFetcher:
    """Fetches logs for [start, limit], choosing how far it reaches; returns (logs, end)."""

    def __init__(
        self,
        rpc: Transport,
        addresses: Sequence[str],
        *,
        max_range: int,
        initial_range: int = 100,
        target_logs: int = 10_000,
        retries: int = 6,
        backoff: float = 0.1,
    ) -> None:
        self.rpc = rpc
        self.addresses = list(addresses)
        self.max_range = max_range
        self.range = float(min(initial_range, max_range))
        self.target_logs = target_logs
        self.retries = retries
        self.backoff = backoff

    def fetch(self, start: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        attempt = 0
        end = min(limit, start + int(self.range) - 1)
        while True:
            try:
                logs: list[dict[str, Any]] = self.rpc.call(
                    "eth_getLogs", [{"address": self.addresses, "fromBlock": hex(start), "toBlock": hex(end)}]
                )
                span = max(self.range, end - start + 1)
                # grow 5%, but not past about `target_logs` per range at the density just seen: a
                # batch then stays a few MB, and reading the next overlaps writing this one
                dense = span * self.target_logs / len(logs) if logs else span * 1.05
                self.range = max(1.0, min(float(self.max_range), span * 1.05, dense))
                return logs, end
            except RpcError as exc:
                if is_too_many_results(exc) and end > start:
                    suggested = suggested_end(exc, start)
                    end = (
                        suggested
                        if suggested is not None and start <= suggested < end
                        else start + (end - start) // 2
                    )
                    self.range = float(end - start + 1)
                    log.info("too many logs: narrowing to blocks %d-%d", start, end)
                    continue
                attempt = self._retry(exc, attempt)
            except ChainError as exc:
                attempt = self._retry(exc, attempt)

    def call(self, method: str, params: Sequence[Any]) -> Any:
        """A single call with the same retry policy."""
        attempt = 0
        while True:
            try:
                return self.rpc.call(method, params)
            except ChainError as exc:
                attempt = self._retry(exc, attempt)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """A batch in which every reply must succeed; the whole batch is retried otherwise."""
        attempt = 0
        while True:
            try:
                replies = self.rpc.batch(calls)
                failed = next((r for r in replies if isinstance(r, Exception)), None)
                if failed is not None:
                    raise failed
                return replies
            except ChainError as exc:
                attempt = self._retry(exc, attempt)

    def _retry(self, exc: ChainError, attempt: int) -> int:
        if attempt >= self.retries:
            raise exc
        delay = self.backoff * 2**attempt
        log.warning("node error (%s); retry %d in %.1fs", exc, attempt + 1, delay)
        time.sleep(delay)
        return attempt + 1
