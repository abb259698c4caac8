"""`esg-ledger audit reconcile`: recount everything from raw chain logs and compare it with SQL.

Up to the mirror's cursor block, four views must agree:
  1. the chain's logs, fetched again with `eth_getLogs` and decoded: every raw log, every event row
     and every admin action must be in SQL exactly, and nothing else;
  2. the state tables (balances, residents, feedback items, campaigns, …): folded again, in one pass,
     from those chain rows into a scratch database, they must equal the incrementally kept ones
     (which went through batches, restarts and fork rollbacks);
  3. the token contract's own state: `balanceOf` of every holder and `totalSupply`, at that block,
     must equal the balance table;
  4. per-resident plogging totals recounted from the chain rows must equal SQL's aggregate.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import decode
from eth_hash.auto import keccak
from sqlalchemy import Engine, Table, func, select

from ledger.chain.decode import TABLES, decode_logs, raw_rows
from ledger.chain.rpc import Transport
from ledger.deploy import Deployment

from .models import ADMIN_ACTION, BALANCE, EVENT_TABLES, RAW_LOG
from .projections import PROJECTIONS
from .store import load_cursor, write_derived

_BALANCE_OF = keccak(b"balanceOf(address)")[:4]
_TOTAL_SUPPLY = keccak(b"totalSupply()")[:4]
_CHUNK = 2_000
_ACCEPTED = 2


@dataclass
class Mismatch:
    what: str
    key: str
    chain: Any
    mirror: Any


@dataclass
class AuditReport:
    block: int
    counts: dict[str, int] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _position_key(row: dict[str, Any]) -> str:
    return f"{row['block_hash']}:{row['log_index']}"


def _chain_logs(rpc: Transport, deployment: Deployment, block: int) -> list[dict[str, Any]]:
    addresses = [c.address for c in deployment.contracts.values()]
    logs: list[dict[str, Any]] = []
    for start in range(deployment.start_block, block + 1, _CHUNK):
        end = min(block, start + _CHUNK - 1)
        logs += rpc.call(
            "eth_getLogs", [{"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}]
        )
    return logs


def _table_rows(
    engine: Engine, table: Table, chain_id: int, block: int | None = None
) -> list[dict[str, Any]]:
    query = select(table).where(table.c.chain_id == chain_id)
    if block is not None and "block_number" in table.c:
        query = query.where(table.c.block_number <= block)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _compare_logs(
    report: AuditReport, what: str, chain: list[dict[str, Any]], sql: list[dict[str, Any]]
) -> None:
    on_chain = {_position_key(r): r for r in chain}
    in_sql = {_position_key(r): r for r in sql}
    report.counts[what] = len(on_chain)
    for key in sorted(on_chain.keys() | in_sql.keys()):
        if on_chain.get(key) != in_sql.get(key):
            report.mismatches.append(Mismatch(what, key, on_chain.get(key), in_sql.get(key)))


def _state_key(projection_table: Table, row: dict[str, Any]) -> str:
    return ":".join(str(row[c.name]) for c in projection_table.primary_key.columns)


def _compare_state(report: AuditReport, engine: Engine, chain_id: int, chain_rows: dict[str, Any]) -> None:
    """Folds the chain's rows into a scratch SQLite mirror in one pass; its state tables must match."""
    from ledger.db import make_engine
    from migrations import migrate

    with tempfile.TemporaryDirectory() as tmp:
        scratch = make_engine(f"sqlite:///{Path(tmp) / 'audit.db'}", synchronous="OFF")
        migrate(scratch)
        with scratch.begin() as conn:
            write_derived(conn, chain_id, chain_rows)
        for projection in PROJECTIONS:
            table = projection.table
            expected = {_state_key(table, r): r for r in _table_rows(scratch, table, chain_id)}
            actual = {_state_key(table, r): r for r in _table_rows(engine, table, chain_id)}
            report.counts[table.name] = len(expected)
            for key in sorted(expected.keys() | actual.keys()):
                if expected.get(key) != actual.get(key):
                    report.mismatches.append(Mismatch(table.name, key, expected.get(key), actual.get(key)))
        scratch.dispose()


def _compare_token(
    report: AuditReport, rpc: Transport, engine: Engine, deployment: Deployment, block: int
) -> None:
    token = deployment.address("ParticipationToken")
    balances = {
        r["holder"]: r["balance"]
        for r in _table_rows(engine, BALANCE, deployment.chain_id)
        if r["token"] == token
    }
    holders = sorted(balances)
    calls: list[tuple[str, list[Any]]] = [
        ("eth_call", [{"to": token, "data": "0x" + _TOTAL_SUPPLY.hex()}, hex(block)])
    ]
    calls += [
        (
            "eth_call",
            [
                {"to": token, "data": "0x" + (_BALANCE_OF + bytes(12) + bytes.fromhex(h[2:])).hex()},
                hex(block),
            ],
        )
        for h in holders
    ]
    values = []
    for i in range(0, len(calls), 1000):
        for reply in rpc.batch(calls[i : i + 1000]):
            if isinstance(reply, Exception):
                raise reply
            values.append(decode(["uint256"], bytes.fromhex(reply[2:]))[0])
    supply = sum(balances.values())
    if values[0] != supply:
        report.mismatches.append(Mismatch("totalSupply", token, values[0], supply))
    for holder, on_chain in zip(holders, values[1:], strict=True):
        if on_chain != balances[holder]:
            report.mismatches.append(Mismatch("balanceOf", holder, on_chain, balances[holder]))
    report.counts["holders"] = len(holders)


def _compare_plogging_totals(
    report: AuditReport, engine: Engine, chain_id: int, block: int, sessions: list[dict[str, Any]]
) -> None:
    """Accepted sessions, grams and metres per resident: what /v1/residents and /v1/stats report."""
    expected: Counter[tuple[str, str]] = Counter()
    for s in sessions:
        if s["status"] == _ACCEPTED:
            expected[s["resident"], "sessions"] += 1
            expected[s["resident"], "trash_grams"] += s["trash_grams"]
            expected[s["resident"], "distance_meters"] += s["distance_meters"]
    t = EVENT_TABLES["plogging_session"]
    with engine.connect() as conn:
        result = conn.execute(
            select(t.c.resident, func.count(), func.sum(t.c.trash_grams), func.sum(t.c.distance_meters))
            .where(t.c.chain_id == chain_id, t.c.block_number <= block, t.c.status == _ACCEPTED)
            .group_by(t.c.resident)
        )
        actual: Counter[tuple[str, str]] = Counter()
        for resident, count, grams, meters in result:
            actual[resident, "sessions"] = int(count)
            actual[resident, "trash_grams"] = int(grams)
            actual[resident, "distance_meters"] = int(meters)
    for key in sorted(expected.keys() | actual.keys()):
        if expected[key] != actual[key]:
            report.mismatches.append(
                Mismatch("plogging_totals", f"{key[0]}:{key[1]}", expected[key], actual[key])
            )


def reconcile(engine: Engine, rpc: Transport, deployment: Deployment) -> AuditReport:
    """Compares chain, mirror and token state up to the mirror's cursor; lists every difference."""
    chain_id = deployment.chain_id
    with engine.connect() as conn:
        cursor = load_cursor(conn, chain_id)
    block = cursor[0] if cursor else deployment.start_block - 1
    report = AuditReport(block=block)
    logs = _chain_logs(rpc, deployment, block) if block >= deployment.start_block else []
    _compare_logs(report, "raw_log", raw_rows(logs, chain_id), _table_rows(engine, RAW_LOG, chain_id, block))
    chain = decode_logs(logs, chain_id)
    for name in TABLES:
        table = ADMIN_ACTION if name == "admin_action" else EVENT_TABLES[name]
        _compare_logs(report, name, chain[name], _table_rows(engine, table, chain_id, block))
    _compare_state(report, engine, chain_id, chain)
    if block >= deployment.start_block:
        _compare_token(report, rpc, engine, deployment, block)
    _compare_plogging_totals(report, engine, chain_id, block, chain["plogging_session"])
    return report
