"""Periods in block time: a report's `--from`/`--to` dates become a block range by binary search over
the node's headers (timestamps never decrease), and rows are dated by their block's timestamp.

The mirror keeps no timestamps; the node is the clock. Both are the chain's own word, so a figure
dated here is dated by the chain, not by a resident's claimed `startedAt` or a server's clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from ledger.chain.rpc import Transport
from ledger.errors import AuditQueryError

KST = timezone(timedelta(hours=9), "KST")
_BATCH = 500


@dataclass(frozen=True)
class BlockPeriod:
    """Blocks `first..last` (inclusive): those whose timestamp is in `[since, until)`."""

    first: int
    last: int
    since: int | None = None
    until: int | None = None

    @property
    def empty(self) -> bool:
        return self.last < self.first


def parse_when(value: str | None, field: str) -> int | None:
    """A date (`2026-04-01`, midnight in Korea), an ISO time with offset, or unix seconds."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return int(datetime(day.year, day.month, day.day, tzinfo=KST).timestamp())
        at = datetime.fromisoformat(value)
    except ValueError:
        raise AuditQueryError(f"{value!r} is not a date, an ISO time or unix seconds", field=field) from None
    return int((at if at.tzinfo else at.replace(tzinfo=KST)).timestamp())


class BlockClock:
    """Block timestamps from the node, cached; the block range of a time period."""

    def __init__(self, rpc: Transport) -> None:
        self.rpc = rpc
        self._times: dict[int, int] = {}
        self._hashes: dict[int, str] = {}

    def _fetch(self, numbers: list[int]) -> None:
        for i in range(0, len(numbers), _BATCH):
            chunk = numbers[i : i + _BATCH]
            replies = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for n, reply in zip(chunk, replies, strict=True):
                if isinstance(reply, Exception):
                    raise reply
                if reply is None:
                    raise AuditQueryError(f"the node has no block {n}", field="block")
                self._times[n] = int(reply["timestamp"], 16)
                self._hashes[n] = str(reply["hash"])

    def timestamps(self, numbers: Iterable[int]) -> dict[int, int]:
        wanted = sorted(set(numbers))
        self._fetch([n for n in wanted if n not in self._times])
        return {n: self._times[n] for n in wanted}

    def timestamp(self, number: int) -> int:
        return self.timestamps([number])[number]

    def block_hash(self, number: int) -> str:
        self.timestamps([number])
        return self._hashes[number]

    def _first_at_or_after(self, at: int, low: int, high: int) -> int:
        """The first block in `low..high` with timestamp >= at (high + 1 if none)."""
        lo, hi = low, high + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.timestamp(mid) >= at:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def period(
        self, since: int | None, until: int | None, *, start_block: int, last_block: int
    ) -> BlockPeriod:
        """The blocks of `[since, until)` among `start_block..last_block` (the mirror's cursor)."""
        if since is not None and until is not None and until <= since:
            raise AuditQueryError("the period ends before it starts", field="to")
        first = start_block if since is None else self._first_at_or_after(since, start_block, last_block)
        last = last_block if until is None else self._first_at_or_after(until, start_block, last_block) - 1
        return BlockPeriod(first=first, last=last, since=since, until=until)


def day_of(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, KST).date().isoformat()


def month_of(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, KST).strftime("%Y-%m")


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
