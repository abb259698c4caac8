"""The decode stage: raw `eth_getLogs` entries → rows for the mirror's tables.

Every event's layout is fixed (`events.py`), so each gets a small compiled reader of topic and data
words instead of a generic ABI decoder (~20x faster); golden tests pin the readers to web3's decoder
for every event. A log that matches a known topic but not its layout, and an integer too large for a
64-bit SQL column, are DecodeErrors: the indexer stops rather than store a wrong or truncated row.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

from eth_utils.address import to_checksum_address

from ..errors import DecodeError
from .admin import ADMIN_ACTIONS
from .events import EVENTS, EVENTS_BY_TABLE, EVENTS_BY_TOPIC, EventSpec, topic

__all__ = [
    "ACTION_FAILED",
    "PLOGGING_RECORDED",
    "TABLES",
    "TRANSFER",
    "decode_logs",
    "raw_rows",
    "topic",
]

PLOGGING_RECORDED = next(e.topic0 for e in EVENTS if e.name == "PloggingRecorded")
ACTION_FAILED = next(e.topic0 for e in EVENTS if e.name == "ActionFailed")
TRANSFER = next(e.topic0 for e in EVENTS if e.name == "Transfer")
# every table decode_logs fills: one per event table, and the admin action log
TABLES: tuple[str, ...] = (*EVENTS_BY_TABLE, "admin_action")

_INT64_MAX = 2**63 - 1
_Getter = Callable[[list[str], bytes], Any]


class _Layout(ValueError):
    pass


@functools.lru_cache(maxsize=65_536)
def _address(word: str) -> str:
    # residents recur across logs; checksumming costs a keccak each time
    if len(word) >= 66 and int(word[2:-40] or "0", 16):
        raise _Layout(f"{word} is not a left-padded address")
    return to_checksum_address("0x" + word[-40:])


def _check_uint(kind: str, value: int, wide: bool = False) -> int:
    bits = int(kind[4:] or 256)
    if value >> bits:
        raise _Layout(f"{value} is not a valid {kind}")
    if value > _INT64_MAX and not wide:
        raise _Layout(f"{kind} value {value} does not fit a 64-bit SQL integer")
    return value


def _convert(kind: str, word: bytes, wide: bool = False) -> Any:
    if kind == "address":
        return _address("0x" + word.hex())
    if kind == "bytes32":
        return "0x" + word.hex()
    value = int.from_bytes(word, "big")
    if kind == "bool":
        if value > 1:
            raise _Layout(f"{value} is not a bool")
        return value == 1
    return _check_uint(kind, value, wide)


def _topic_getter(kind: str, i: int, wide: bool) -> _Getter:
    if kind == "address":
        return lambda topics, _data: _address(topics[i])
    if kind == "bytes32":
        return lambda topics, _data: topics[i]
    return lambda topics, _data: _convert(kind, bytes.fromhex(topics[i][2:]), wide)


def _word_getter(kind: str, i: int, wide: bool) -> _Getter:
    a, b = 32 * i, 32 * i + 32
    if kind.startswith("uint"):
        # the hot path (amounts, distances): no dispatch on the kind per value
        bits = int(kind[4:] or 256)
        limit = 2**bits - 1 if wide else min(_INT64_MAX, 2**bits - 1)

        def read_uint(_topics: list[str], data: bytes) -> int:
            value = int.from_bytes(data[a:b], "big")
            if value > limit:
                return _check_uint(kind, value, wide)  # raises with the reason
            return value

        return read_uint
    return lambda _topics, data: _convert(kind, data[a:b], wide)


def _dynamic_getter(kind: str, i: int) -> _Getter:
    def read(_topics: list[str], data: bytes) -> Any:
        offset = int.from_bytes(data[32 * i : 32 * i + 32], "big")
        if offset + 32 > len(data):
            raise _Layout(f"offset {offset} of a {kind} points past the data")
        length = int.from_bytes(data[offset : offset + 32], "big")
        if offset + 32 + length > len(data):
            raise _Layout(f"a {kind} of {length} bytes runs past the data")
        value = data[offset + 32 : offset + 32 + length]
        return value.decode() if kind == "string" else "0x" + value.hex()

    return read


class _Reader:
    def __init__(self, spec: EventSpec) -> None:
        self.spec = spec
        self.getters: list[tuple[str, _Getter]] = []
        topic_i, word_i, self.dynamic = 1, 0, False
        for f in spec.fields:
            if f.indexed:
                self.getters.append((f.column, _topic_getter(f.type, topic_i, f.wide)))
                topic_i += 1
            elif f.type in ("bytes", "string"):
                self.getters.append((f.column, _dynamic_getter(f.type, word_i)))
                word_i, self.dynamic = word_i + 1, True
            else:
                self.getters.append((f.column, _word_getter(f.type, word_i, f.wide)))
                word_i += 1
        self.topics, self.words = topic_i, word_i
        self.constants = dict(spec.constants)

    def read(self, log: dict[str, Any], data: bytes, chain_id: int) -> dict[str, Any]:
        topics = log["topics"]
        if len(topics) != self.topics or (
            len(data) != 32 * self.words if not self.dynamic else len(data) < 32 * self.words
        ):
            raise _Layout(
                f"{self.spec.name} needs {self.topics} topics and {self.words} data words, "
                f"got {len(topics)} topics and {len(data)} bytes"
            )
        row = {
            "chain_id": chain_id,
            "block_number": int(log["blockNumber"], 16),
            "block_hash": log["blockHash"],
            "log_index": int(log["logIndex"], 16),
            "tx_hash": log["transactionHash"],
        }
        if self.spec.contract_column:
            row[self.spec.contract_column] = _address(log["address"])
        for column, get in self.getters:
            row[column] = get(topics, data)
        if self.constants:
            row.update(self.constants)
        return row


_READERS: dict[str, _Reader] = {t: _Reader(spec) for t, spec in EVENTS_BY_TOPIC.items()}


def _admin_row(spec: EventSpec, row: dict[str, Any], address: str) -> dict[str, Any]:
    actor_column, subject_column = ADMIN_ACTIONS[spec.name]
    position = ("chain_id", "block_number", "block_hash", "log_index", "tx_hash")
    details = {k: v for k, v in row.items() if k not in position}
    return {
        **{k: row[k] for k in position},
        "contract": _address(address),
        "action": spec.name,
        "actor": row[actor_column],
        "subject": None if subject_column is None else str(row[subject_column]),
        "details": json.dumps(details, sort_keys=True, separators=(",", ":")),
    }


def decode_logs(
    logs: Iterable[dict[str, Any]], chain_id: int, only: frozenset[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Rows per table (every table in TABLES, maybe empty); `only` limits it to some tables.

    Logs of unknown events are skipped (the contracts may gain events before the indexer learns them;
    the raw log is kept either way). Removed logs (`removed: true`) are skipped.
    """
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in (only or TABLES)}
    admin = out.get("admin_action")
    for log in logs:
        topics = log["topics"]
        if not topics or log.get("removed"):
            continue
        reader = _READERS.get(topics[0])
        if reader is None:
            continue
        rows = out.get(reader.spec.table)
        if rows is None and admin is None:
            continue
        try:
            row = reader.read(log, bytes.fromhex(log["data"][2:]), chain_id)
            if rows is not None:
                rows.append(row)
            if admin is not None and reader.spec.name in ADMIN_ACTIONS:
                admin.append(_admin_row(reader.spec, row, log["address"]))
        except (ValueError, IndexError) as exc:
            raise DecodeError(log, str(exc)) from exc
    return out


def raw_rows(logs: Iterable[dict[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """Every log as the node gave it, for the `raw_log` table: derived tables are rebuilt from these."""
    out = []
    for log in logs:
        if log.get("removed"):
            continue
        topics = log["topics"]
        n = len(topics)
        out.append(
            {
                "chain_id": chain_id,
                "block_number": int(log["blockNumber"], 16),
                "block_hash": log["blockHash"],
                "log_index": int(log["logIndex"], 16),
                "tx_hash": log["transactionHash"],
                "tx_index": int(log["transactionIndex"], 16),
                "address": log["address"].lower(),
                "topic0": topics[0] if n > 0 else None,
                "topic1": topics[1] if n > 1 else None,
                "topic2": topics[2] if n > 2 else None,
                "topic3": topics[3] if n > 3 else None,
                "data": log["data"],
            }
        )
    return out


def raw_to_log(row: dict[str, Any]) -> dict[str, Any]:
    """A `raw_log` row back into the node's JSON shape, so replay goes through decode_logs unchanged."""
    return {
        "address": row["address"],
        "topics": [t for t in (row["topic0"], row["topic1"], row["topic2"], row["topic3"]) if t is not None],
        "data": row["data"],
        "blockNumber": hex(row["block_number"]),
        "blockHash": row["block_hash"],
        "logIndex": hex(row["log_index"]),
        "transactionHash": row["tx_hash"],
        "transactionIndex": hex(row["tx_index"]),
    }
