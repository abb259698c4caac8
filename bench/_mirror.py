"""What reached the SQL mirror and the chain, for the pipeline benchmark: a watcher that stamps each
digest when its row first appears, the chain's own "recorded" logs per digest, and the gas the
relayer's mined batches used."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ledger.chain.events import EVENTS
from ledger.chain.rpc import HttpRpc
from ledger.deploy import Deployment
from ledger.kinds import KINDS


def table_of(kind: str) -> str:
    """The mirror table of the event that proves a `kind` action recorded."""
    event = KINDS[kind].batch.recorded_event
    return next(e.table for e in EVENTS if e.name == event)


class MirrorWatcher(threading.Thread):
    """Stamps each digest when it first appears in the mirror (SQLite, read-only, every 20 ms).

    The indexer commits a block range's rows together with its cursor, so a poll reads the rows only
    when the cursor moved (a few times a second: the watcher shares the cores with what it measures).
    It then reads from a few blocks below the highest block seen, where a reorg replaces rows.
    Duplicates are counted by the benchmark at the end, from the final tables.
    """

    REREAD = 2  # blocks below the highest seen that each read takes again

    def __init__(self, db: Path, chain_id: int, tables: Iterable[str] = ("plogging_session",)) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.chain_id = chain_id
        # (chain_id, block_number) lead every event table's primary key: a range read, not a scan
        self.queries = [
            f"SELECT block_number, digest FROM {t} WHERE chain_id = ? AND block_number >= ?" for t in tables
        ]
        self.seen: dict[str, float] = {}
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        top, cursor = 0, None
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error as exc:
            self.error = exc
            return
        try:
            while not self._halt.is_set():
                rows: list[tuple[int, str]] = []
                try:
                    now_at = conn.execute("SELECT block_number, block_hash FROM indexer_cursor").fetchall()
                    if now_at != cursor:
                        since = (self.chain_id, max(0, top - self.REREAD))
                        for query in self.queries:  # one read transaction would be no more exact
                            rows += conn.execute(query, since).fetchall()
                    cursor = now_at
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    rows = []  # a checkpoint holds the file for a moment: read again next time
                now = time.monotonic()
                for block, digest in rows:
                    top = max(top, block)
                    self.seen.setdefault(digest, now)
                self._halt.wait(0.02)
        except BaseException as exc:  # reported by the benchmark, never swallowed
            self.error = exc
        finally:
            conn.close()

    def check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the mirror watcher failed: {self.error!r}") from self.error

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.check()


def wait_seen(watcher: MirrorWatcher, digests: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(d not in watcher.seen for d in digests[-200:] + digests[:200]):
        watcher.check()
        time.sleep(0.05)
    while time.monotonic() < deadline and sum(1 for d in digests if d in watcher.seen) < len(digests):
        watcher.check()
        time.sleep(0.1)


def chain_counts(rpc: HttpRpc, deployment: Deployment, kinds: Iterable[str]) -> Counter[str]:
    """How many times the chain logged each digest as recorded, for the given kinds."""
    batches = [KINDS[k].batch for k in kinds]
    where = {b.recorded_topic: b.digest_topic for b in batches}
    addresses = sorted({deployment.address(b.contract) for b in batches})
    head = int(rpc.call("eth_blockNumber"), 16)
    counts: Counter[str] = Counter()
    for start in range(deployment.start_block, head + 1, 2000):
        for entry in rpc.call(
            "eth_getLogs",
            [
                {
                    "address": addresses,
                    "topics": [sorted(where)],
                    "fromBlock": hex(start),
                    "toBlock": hex(min(head, start + 1999)),
                }
            ],
        ):
            topics = entry["topics"]
            counts[topics[where[topics[0]]]] += 1
    return counts


def mirror_rows(db: Path, tables: Iterable[str]) -> Counter[str]:
    """How many mirror rows each digest has, over the given tables."""
    rows: Counter[str] = Counter()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for table in tables:
            rows.update(d for (d,) in conn.execute(f"SELECT digest FROM {table}"))
    return rows


def last_relay_tx(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM relay_tx").fetchone()[0])


def gas_by_kind(
    rpc: HttpRpc, db: Path, kinds: Iterable[str], after: int = 0
) -> dict[str, tuple[int, int, int]]:
    """Per kind, (Σ gasUsed, actions, transactions) of the relayer's mined batches after relay_tx `after`."""
    wanted = set(kinds)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        mined = [
            (k, h, n)
            for k, h, n in conn.execute(
                "SELECT kind, tx_hash, action_count FROM relay_tx WHERE status = 'mined' AND id > ?", (after,)
            )
            if k in wanted
        ]
    out = dict.fromkeys(sorted(wanted), (0, 0, 0))
    for start in range(0, len(mined), 200):
        chunk = mined[start : start + 200]
        receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for _, h, _ in chunk])
        for (kind, _, actions), receipt in zip(chunk, receipts, strict=True):
            if isinstance(receipt, dict):
                gas, n, txs = out[kind]
                out[kind] = (gas + int(receipt["gasUsed"], 16), n + actions, txs + 1)
    return out
