"""`esg-ledger audit reconcile`: recount everything from raw chain logs and compare it with SQL.

Three independent views must agree up to the mirror's cursor block:
  1. the rows decoded from `eth_getLogs` (the chain's history),
  2. the mirror's rows (what every report is built from),
  3. the token contract's own state (`balanceOf`, `totalSupply` at that block).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode
from eth_hash.auto import keccak
from sqlalchemy import Engine, select

from ledger.deploy import Deployment
from ledger.rpc import Transport

from .decode import decode_logs
from .store import EVENT_TABLES, load_cursor

_BALANCE_OF = keccak(b"balanceOf(address)")[:4]
_TOTAL_SUPPLY = keccak(b"totalSupply()")[:4]
_ZERO = "0x0000000000000000000000000000000000000000"
_CHUNK = 10_000


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


def _key(row: dict[str, Any]) -> str:
    return f"{row['block_hash']}:{row['log_index']}"


def _chain_rows(rpc: Transport, deployment: Deployment, block: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    addresses = [c.address for c in deployment.contracts.values()]
    for start in range(deployment.start_block, block + 1, _CHUNK):
        end = min(block, start + _CHUNK - 1)
        logs = rpc.call("eth_getLogs", [{"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}])
        for table, rows in decode_logs(logs, deployment.chain_id).items():
            out[table].extend(rows)
    return out


def _mirror_rows(engine: Engine, chain_id: int, block: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, table in EVENT_TABLES.items():
            result = conn.execute(
                select(*[c for c in table.c if c.name != "id"]).where(
                    table.c.chain_id == chain_id, table.c.block_number <= block
                )
            )
            out[name] = [dict(r) for r in result.mappings()]
    return out


def _balances(transfers: list[dict[str, Any]], token: str) -> Counter[str]:
    balance: Counter[str] = Counter()
    for t in transfers:
        if t["token"] == token:
            balance[t["to_address"]] += t["value"]
            balance[t["from_address"]] -= t["value"]
    balance.pop(_ZERO, None)
    return balance


def reconcile(engine: Engine, rpc: Transport, deployment: Deployment) -> AuditReport:
    """Compares chain, mirror and token state up to the mirror's cursor; lists every difference."""
    with engine.connect() as conn:
        cursor = load_cursor(conn, deployment.chain_id)
    block = cursor[0] if cursor else deployment.start_block - 1
    report = AuditReport(block=block)
    chain = _chain_rows(rpc, deployment, block) if block >= deployment.start_block else {}
    mirror = _mirror_rows(engine, deployment.chain_id, block)
    for table in EVENT_TABLES:
        on_chain = {_key(r): r for r in chain.get(table, [])}
        in_sql = {_key(r): r for r in mirror[table]}
        report.counts[table] = len(on_chain)
        for key in on_chain.keys() | in_sql.keys():
            if on_chain.get(key) != in_sql.get(key):
                report.mismatches.append(Mismatch(table, key, on_chain.get(key), in_sql.get(key)))

    token = deployment.address("ParticipationToken")
    sql_balances = _balances(mirror["token_transfer"], token)
    holders = sorted(set(sql_balances) | set(_balances(chain.get("token_transfer", []), token)))
    calls = [("eth_call", [{"to": token, "data": "0x" + _TOTAL_SUPPLY.hex()}, hex(block)])]
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
    replies = rpc.batch(calls) if block >= deployment.start_block else []
    values = []
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
        values.append(decode(["uint256"], bytes.fromhex(reply[2:]))[0])
    if values:
        supply = sum(sql_balances.values())
        if values[0] != supply:
            report.mismatches.append(Mismatch("totalSupply", token, values[0], supply))
        for holder, on_chain_balance in zip(holders, values[1:], strict=True):
            if on_chain_balance != sql_balances.get(holder, 0):
                report.mismatches.append(
                    Mismatch("balance", holder, on_chain_balance, sql_balances.get(holder, 0))
                )
    report.counts["holders"] = len(holders)
    return report
