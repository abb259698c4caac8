"""The indexer loop: fetch logs → decode → store, with fork detection by stored block hashes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak
from sqlalchemy import Engine

from ledger.chain.decode import decode_logs, raw_rows
from ledger.chain.rpc import Transport

from .errors import ReorgTooDeepError
from .fetch import LogFetcher
from .replay import rebuild
from .store import load_cursor, rollback_to, store, stored_blocks

log = logging.getLogger(__name__)

_SUSPICIOUS_RETRIES = 3


@dataclass
class _Range:
    """One fetched, checked and decoded block range, ready to store."""

    end: int
    count: int
    raw: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]
    blocks: dict[int, str]


@dataclass
class SyncResult:
    head: int
    indexed: int
    events: int
    reorgs: int


@dataclass
class IndexerStatus:
    head: int | None = None
    indexed: int | None = None
    head_changed_at: float = field(default_factory=time.time)
    last_sync_at: float | None = None
    reorgs: int = 0
    node_behind: bool = False  # the node's head is below the mirror's cursor (a lagging node)


def _bloom_bits(address: str) -> list[int]:
    h = keccak(bytes.fromhex(address[2:]))
    return [((h[i] << 8) | h[i + 1]) & 2047 for i in (0, 2, 4)]


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
        self.chain_id = chain_id
        self.addresses = addresses
        self.start_block = start_block
        self.finality_depth = finality_depth
        self.fetcher = LogFetcher(rpc, addresses, max_range=max_range)
        self.status = IndexerStatus()
        self._bloom_bits = [_bloom_bits(a) for a in addresses]
        self._suspicious: dict[tuple[int, int], int] = {}
        self._derived_checked = False

    @property
    def head(self) -> int:
        return self.status.head or 0

    def cursor(self) -> tuple[int, str] | None:
        # A deferred read: on SQLite it does not wait behind the API's and relayer's writes.
        with self.engine.execution_options(sqlite_deferred=True).connect() as conn:
            return load_cursor(conn, self.chain_id)

    def ensure_derived(self) -> list[str]:
        """Rebuilds, from the raw logs in SQL, every derived table whose handler changed (replay.py)."""
        with self.engine.begin() as conn:
            rebuilt = rebuild(conn)
        self._derived_checked = True
        return rebuilt

    def sync(self, progress: Callable[[int, int], None] | None = None) -> SyncResult:
        if not self._derived_checked:
            self.ensure_derived()
        head = int(self.fetcher.call("eth_blockNumber", []), 16)
        if head != self.status.head:
            self.status.head, self.status.head_changed_at = head, time.time()
        cursor = self.cursor()
        if cursor is not None and head < cursor[0]:
            # Never roll back because a node says its head is lower: a node behind a load balancer
            # may lag. A real fork shows once the node's head passes the cursor again (hash check).
            log.warning("the node's head %d is below the mirror's cursor %d; waiting for it", head, cursor[0])
            self.status.node_behind = True
            return SyncResult(head=head, indexed=cursor[0], events=0, reorgs=0)
        self.status.node_behind = False
        reorgs = self._check_fork()
        cursor = self.cursor()
        position = cursor[0] if cursor else self.start_block - 1
        previous = cursor
        events = 0
        # Reading range n+1 (node, JSON, decoding) overlaps writing range n (SQLite and psycopg let go
        # of the GIL while the database works); one reader, so ranges stay in order.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-read") as reader:
            ahead: Future[_Range | None] | None = (
                reader.submit(self._read, position + 1, head, previous) if position < head else None
            )
            while ahead is not None:
                batch = ahead.result()
                if batch is None:  # the chain moved under us, or a node lagged: the next sync retries
                    break
                following = (batch.end, batch.blocks[batch.end])
                ahead = (
                    reader.submit(self._read, batch.end + 1, head, following) if batch.end < head else None
                )
                if not self._write(batch, previous[0] if previous else None):
                    if ahead is not None:
                        ahead.cancel()
                    break
                position, previous = batch.end, following
                events += batch.count
                if progress:
                    progress(position, head)
        self.status.indexed, self.status.last_sync_at = position, time.time()
        self.status.reorgs += reorgs
        return SyncResult(head=head, indexed=position, events=events, reorgs=reorgs)

    def _headers(self, numbers: list[int]) -> dict[int, dict[str, Any] | None]:
        replies = self.fetcher.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return dict(zip(numbers, replies, strict=True))

    def _read(self, start: int, limit: int, parent: tuple[int, str] | None) -> _Range | None:
        """Fetches and decodes the next range; None if it does not fit what is stored below it."""
        logs, end = self.fetcher.fetch(start, limit)
        log_blocks = {int(entry["blockNumber"], 16): entry["blockHash"] for entry in logs}
        # Keep every unfinalized block's hash, so a fork point is always found exactly.
        window = range(max(start, self.head - self.finality_depth + 1), end + 1)
        headers = self._headers(sorted(set(log_blocks) | set(window) | {start, end}))
        if headers[end] is None or any((headers[n] or {}).get("hash") != h for n, h in log_blocks.items()):
            log.info("blocks %d-%d changed while being read; retrying", start, end)
            return None
        if parent is not None and (headers[start] or {}).get("parentHash") != parent[1]:
            # the chain forked below this range since the block we stored last: the next sync's
            # fork check rolls back; storing this range would mix two chains
            log.info("block %d no longer follows the stored block %d; retrying", start, parent[0])
            return None
        if self._looks_incomplete(start, end, window, headers, log_blocks):
            return None
        blocks = {n: str(h["hash"]) for n, h in headers.items() if h is not None}
        return _Range(end, len(logs), raw_rows(logs, self.chain_id), decode_logs(logs, self.chain_id), blocks)

    def _write(self, batch: _Range, previous: int | None) -> bool:
        with self.engine.begin() as conn:
            stored = store(
                conn,
                self.chain_id,
                raw=batch.raw,
                rows=batch.rows,
                blocks=batch.blocks,
                cursor=(batch.end, batch.blocks[batch.end]),
                previous=previous,
                finality_depth=self.finality_depth,
            )
        if not stored:
            log.warning("another indexer moved the cursor of chain %d; this sync stops", self.chain_id)
        return stored

    def _looks_incomplete(
        self,
        start: int,
        end: int,
        window: range,
        headers: dict[int, dict[str, Any] | None],
        log_blocks: dict[int, str],
    ) -> bool:
        """A recent block whose bloom filter names our contracts but that returned no logs.

        A load-balanced endpoint can answer eth_getLogs from a node that lags behind the one that
        answered the headers, with an empty list. Blooms can give false positives, so after a few
        retries of the same range the answer is taken as it is.
        """
        for n in window:
            header = headers.get(n)
            if header is None or n in log_blocks or not header.get("logsBloom"):
                continue
            bloom = int(header["logsBloom"], 16)
            if any(all(bloom >> bit & 1 for bit in bits) for bits in self._bloom_bits):
                key = (start, end)
                self._suspicious[key] = self._suspicious.get(key, 0) + 1
                if self._suspicious[key] <= _SUSPICIOUS_RETRIES:
                    log.info("block %d's bloom names our contracts but no logs came back; retrying", n)
                    return True
                log.warning("block %d: bloom names our contracts, no logs after retries; a false positive", n)
        self._suspicious.clear()
        return False

    def _check_fork(self) -> int:
        """Rolls back to the newest stored block still on the node's chain; returns 1 if it did."""
        cursor = self.cursor()
        if cursor is None:
            return 0
        number, stored_hash = cursor
        if (self._headers([number])[number] or {}).get("hash") == stored_hash:
            return 0
        floor = max(number - self.finality_depth, self.start_block - 1)
        with self.engine.connect() as conn:
            known = stored_blocks(conn, self.chain_id, floor)
        candidates = sorted((n for n in known if n <= self.head), reverse=True)
        current = self._headers(candidates) if candidates else {}
        for n in candidates:
            if (current[n] or {}).get("hash") == known[n]:
                with self.engine.begin() as conn:
                    deleted = rollback_to(conn, self.chain_id, n, known[n])
                log.warning("fork below block %d: rolled back to block %d, deleted %s", number, n, deleted)
                return 1
        raise ReorgTooDeepError(self.chain_id, number, floor)
