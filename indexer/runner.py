"""The indexer loop: fetch logs → decode → store, with fork detection by stored block hashes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ledger.rpc import Transport

from .decode import decode_logs
from .errors import ReorgTooDeepError
from .store import load_cursor, rollback_to, store, stored_blocks

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    head: int
    indexed: int
    events: int
    reorgs: int


class Indexer:
    """Mirrors the ledger contracts' events into SQL. `sync()` catches up to the node's head."""

    def __init__(
        self,
        engine: Engine,
        rpc: Transport,
        *,
        chain_id: int,
        addresses: list[str],
        start_block: int,
        finality_depth: int = 64,
        max_range: int = 5000,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.chain_id = chain_id
        self.addresses = addresses
        self.start_block = start_block
        self.finality_depth = finality_depth
        self.max_range = max_range
        self.head = 0

    def cursor(self) -> tuple[int, str] | None:
        # A deferred read: on SQLite it does not wait behind the API's and relayer's writes.
        with self.engine.execution_options(sqlite_deferred=True).connect() as conn:
            return load_cursor(conn, self.chain_id)

    def sync(self, progress: Callable[[int, int], None] | None = None) -> SyncResult:
        self.head = int(self.rpc.call("eth_blockNumber"), 16)
        reorgs = self._check_fork()
        cursor = self.cursor()
        position = cursor[0] if cursor else self.start_block - 1
        events = 0
        while position < self.head:
            to = min(self.head, position + self.max_range)
            stored = self._index_range(position + 1, to)
            if stored is None:  # the chain moved under us; the next sync sees the fork
                break
            events += stored
            position = to
            if progress:
                progress(position, self.head)
        return SyncResult(head=self.head, indexed=position, events=events, reorgs=reorgs)

    def _headers(self, numbers: list[int]) -> dict[int, str | None]:
        replies = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        out: dict[int, str | None] = {}
        for n, reply in zip(numbers, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            out[n] = reply["hash"] if reply else None
        return out

    def _index_range(self, start: int, end: int) -> int | None:
        logs: list[dict[str, Any]] = self.rpc.call(
            "eth_getLogs", [{"address": self.addresses, "fromBlock": hex(start), "toBlock": hex(end)}]
        )
        log_blocks = {int(entry["blockNumber"], 16): entry["blockHash"] for entry in logs}
        # Keep every unfinalized block's hash, so a fork point is always found exactly.
        window = range(max(start, self.head - self.finality_depth + 1), end + 1)
        headers = self._headers(sorted(set(log_blocks) | set(window) | {end}))
        if any(headers[n] != h for n, h in log_blocks.items()) or headers[end] is None:
            log.info("blocks %d-%d changed while being read; retrying", start, end)
            return None
        rows = decode_logs(logs, self.chain_id)
        blocks = {n: h for n, h in headers.items() if h is not None}
        with self.engine.begin() as conn:
            store(conn, self.chain_id, rows, blocks, (end, str(headers[end])), self.finality_depth)
        return sum(len(r) for r in rows.values())

    def _check_fork(self) -> int:
        """Rolls back to the newest stored block still on the node's chain; returns 1 if it did."""
        cursor = self.cursor()
        if cursor is None:
            return 0
        number, stored_hash = cursor
        if number <= self.head and self._headers([number])[number] == stored_hash:
            return 0
        floor = max(number - self.finality_depth, self.start_block - 1)
        with self.engine.connect() as conn:
            known = stored_blocks(conn, self.chain_id, floor)
        candidates = sorted((n for n in known if n <= self.head), reverse=True)
        current = self._headers(candidates) if candidates else {}
        for n in candidates:
            if current[n] == known[n]:
                with self.engine.begin() as conn:
                    deleted = rollback_to(conn, self.chain_id, n, known[n])
                log.warning("fork below block %d: rolled back to block %d, deleted %s", number, n, deleted)
                return 1
        raise ReorgTooDeepError(self.chain_id, number, floor)
