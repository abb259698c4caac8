"""State tables folded from the event tables: balances, residents, and the current state of each
plogging review, feedback item, campaign, partner, cause, role membership, pause and category.

Every projection has three operations, all inside the store's transaction:
  apply(rows)        forward, with the rows of one batch (after they are inserted);
  forget(block)      before a fork rollback deletes the event rows above `block`: undo their effect;
  rebuild()          from the event tables alone (a handler change: docs/indexer.md).
Event tables are append-only and owned by their block, so a rollback deletes rows; state tables are
not, so each projection undoes from the rows being deleted (balances: the reverse deltas; folds:
the touched keys are folded again from the rows that stay). No undo log is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, select, tuple_

from ._sql import insert_rows, upsert_add
from .models import (
    BALANCE,
    CAMPAIGN,
    CAUSE,
    CONTRACT_PAUSE,
    ENROLMENT,
    EVENT_TABLES,
    FEEDBACK_CATEGORY,
    FEEDBACK_ITEM,
    PARTNER,
    PLOGGING_REVIEW,
    RESIDENT,
    ROLE_MEMBER,
)

Rows = dict[str, list[dict[str, Any]]]
State = dict[str, Any]
Reducer = Callable[[State | None, dict[str, Any]], State | None]

_ZERO = "0x0000000000000000000000000000000000000000"
_CHUNK = 400  # keys per IN (...) list: well under SQLite's bound-parameter limit


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Projection:
    name: str
    table: Table
    version: int
    sources: tuple[str, ...]

    def apply(self, conn: Connection, chain_id: int, rows: Rows) -> None:
        raise NotImplementedError

    def forget(self, conn: Connection, chain_id: int, block: int) -> None:
        raise NotImplementedError

    def rebuild(self, conn: Connection, chain_id: int) -> None:
        conn.execute(delete(self.table).where(self.table.c.chain_id == chain_id))
        source_rows: Rows = {}
        for source in self.sources:
            t = EVENT_TABLES[source]
            result = conn.execute(
                select(t).where(t.c.chain_id == chain_id).order_by(t.c.block_number, t.c.log_index)
            )
            source_rows[source] = [dict(r) for r in result.mappings()]
        self.apply(conn, chain_id, source_rows)


class Balances(Projection):
    """Points per holder, kept by adding each batch's net transfers (one upsert per holder)."""

    name, table, version, sources = "balance", BALANCE, 1, ("token_transfer",)

    @staticmethod
    def _deltas(transfers: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
        delta: dict[tuple[str, str], int] = defaultdict(int)
        for t in transfers:
            delta[t["token"], t["to_address"]] += t["value"]
            delta[t["token"], t["from_address"]] -= t["value"]
        return {k: v for k, v in delta.items() if v and k[1] != _ZERO}

    def _add(self, conn: Connection, chain_id: int, delta: dict[tuple[str, str], int]) -> None:
        rows = [{"chain_id": chain_id, "token": t, "holder": h, "balance": v} for (t, h), v in delta.items()]
        upsert_add(conn, BALANCE, rows, ["chain_id", "token", "holder"], "balance")

    def apply(self, conn: Connection, chain_id: int, rows: Rows) -> None:
        delta = self._deltas(rows.get("token_transfer", []))
        self._add(conn, chain_id, delta)
        self._drop_empty(conn, chain_id, [k for k, v in delta.items() if v < 0])

    @staticmethod
    def _drop_empty(conn: Connection, chain_id: int, keys: list[tuple[str, str]]) -> None:
        # a holder who spent everything has no row, however the mirror got there (the audit compares)
        for chunk in _chunks(keys):
            conn.execute(
                delete(BALANCE).where(
                    BALANCE.c.chain_id == chain_id,
                    tuple_(BALANCE.c.token, BALANCE.c.holder).in_(chunk),
                    BALANCE.c.balance == 0,
                )
            )

    def forget(self, conn: Connection, chain_id: int, block: int) -> None:
        t = EVENT_TABLES["token_transfer"]
        query = select(t.c.token, t.c.from_address, t.c.to_address, t.c.value).where(
            t.c.chain_id == chain_id, t.c.block_number > block
        )
        doomed = (dict(r._mapping) for r in conn.execute(query))
        delta = {k: -v for k, v in self._deltas(doomed).items()}
        self._add(conn, chain_id, delta)
        self._drop_empty(conn, chain_id, list(delta))


class Residents(Projection):
    """Everyone who took a signed action, with where they first appear (a block-owned row)."""

    name, table, version = "resident", RESIDENT, 1
    sources = (
        "plogging_session",
        "feedback_submission",
        "feedback_support",
        "redemption",
        "donation",
        "bonus_claim",
    )

    def apply(self, conn: Connection, chain_id: int, rows: Rows) -> None:
        first: dict[str, dict[str, Any]] = {}
        events = sorted(
            (r for s in self.sources for r in rows.get(s, [])),
            key=lambda r: (r["block_number"], r["log_index"]),
        )
        for r in events:
            first.setdefault(
                r["resident"],
                {
                    "chain_id": chain_id,
                    "address": r["resident"],
                    "first_block": r["block_number"],
                    "first_log_index": r["log_index"],
                    "first_tx_hash": r["tx_hash"],
                },
            )
        insert_rows(conn, RESIDENT, list(first.values()))  # already known residents are ignored

    def forget(self, conn: Connection, chain_id: int, block: int) -> None:
        conn.execute(delete(RESIDENT).where(RESIDENT.c.chain_id == chain_id, RESIDENT.c.first_block > block))


@dataclass
class Fold(Projection):
    """Current state per key, folded in log order by one reducer per source event table."""

    name: str
    table: Table
    version: int
    keys: tuple[str, ...]
    reducers: dict[str, Reducer]

    @property
    def sources(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.reducers)

    def _key(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.keys)

    def _where_keys(self, table: Table, chain_id: int, keys: list[tuple[Any, ...]]) -> Any:
        return (table.c.chain_id == chain_id) & tuple_(*[table.c[k] for k in self.keys]).in_(keys)

    def _fold(self, conn: Connection, chain_id: int, rows: Rows, start_empty: bool) -> None:
        events = sorted(
            ((r["block_number"], r["log_index"], s, r) for s in self.reducers for r in rows.get(s, [])),
            key=lambda e: (e[0], e[1]),
        )
        if not events:
            return
        keys = list({self._key(e[3]) for e in events})
        state: dict[tuple[Any, ...], State | None] = {k: None for k in keys}
        if not start_empty:
            for chunk in _chunks(keys):
                for r in conn.execute(
                    select(self.table).where(self._where_keys(self.table, chain_id, chunk))
                ):
                    row = dict(r._mapping)
                    state[self._key(row)] = row
        for _, _, source, row in events:
            k = self._key(row)
            new = self.reducers[source](state[k], row)
            if new is not None:
                new.update({"chain_id": chain_id, "updated_block": row["block_number"]})
                new.update(zip(self.keys, k, strict=True))
            state[k] = new
        for chunk in _chunks(keys):
            conn.execute(delete(self.table).where(self._where_keys(self.table, chain_id, chunk)))
        insert_rows(conn, self.table, [s for s in state.values() if s is not None])

    def apply(self, conn: Connection, chain_id: int, rows: Rows) -> None:
        self._fold(conn, chain_id, rows, start_empty=False)

    def forget(self, conn: Connection, chain_id: int, block: int) -> None:
        keys: set[tuple[Any, ...]] = set()
        for source in self.reducers:
            t = EVENT_TABLES[source]
            keys |= {
                tuple(r)
                for r in conn.execute(
                    select(*[t.c[k] for k in self.keys]).where(
                        t.c.chain_id == chain_id, t.c.block_number > block
                    )
                )
            }
        if not keys:
            return
        # fold the touched keys again from the rows at or below the fork point
        remaining: Rows = {}
        for source in self.reducers:
            t = EVENT_TABLES[source]
            remaining[source] = []
            for chunk in _chunks(list(keys)):
                result = conn.execute(
                    select(t).where(self._where_keys(t, chain_id, chunk), t.c.block_number <= block)
                )
                remaining[source] += [dict(r) for r in result.mappings()]
        key_list = list(keys)
        for chunk in _chunks(key_list):
            conn.execute(delete(self.table).where(self._where_keys(self.table, chain_id, chunk)))
        self._fold(conn, chain_id, remaining, start_empty=True)


def _pick(row: dict[str, Any], *columns: str) -> State:
    return {c: row[c] for c in columns}


def _update(**changes: str) -> Reducer:
    """A reducer that copies event columns onto an existing state: `_update(state_col="event_col")`."""

    def reduce(state: State | None, row: dict[str, Any]) -> State | None:
        if state is None:
            return None  # the creating event is not in the mirror (it cannot be later than this one)
        return state | {target: row[source] for target, source in changes.items()}

    return reduce


def _review(status: int) -> Reducer:
    def reduce(state: State | None, row: dict[str, Any]) -> State:
        return {
            "resident": row["resident"],
            "status": status,
            "verifier": row["verifier"],
            "reason_code": row.get("reason_code"),
            "reward": row["reward"] if "reward" in row else (state or {}).get("reward", 0),
            "minted": row.get("minted", (state or {}).get("minted")),
            "burned": row.get("burned"),
        }

    return reduce


def _feedback_created(_state: State | None, row: dict[str, Any]) -> State:
    return _pick(row, "digest", "category", "area_code", "content_hash") | {
        "author": row["resident"],
        "status": 1,  # IFeedbackBox.ItemStatus.Submitted
        "hidden": False,
        "support_count": 0,
        "answer_due_at": None,
        "accepted": None,
        "answer_hash": None,
        "reward": None,
        "submitted_block": row["block_number"],
    }


def _status(status: int) -> Reducer:
    return lambda state, _row: None if state is None else state | {"status": status}


def _answered(state: State | None, row: dict[str, Any]) -> State | None:
    if state is None:
        return None
    return state | {
        "status": 3,
        "accepted": row["accepted"],
        "answer_hash": row["answer_hash"],
        "reward": row["reward"],
    }


_CAMPAIGN_FIELDS = (
    "starts_at", "ends_at", "metric", "area_code", "status", "goal", "progress",
    "metadata_hash", "bonus_root", "bonus_total", "bonus_claimed",
)  # fmt: skip


def _claimed(state: State | None, row: dict[str, Any]) -> State | None:
    return None if state is None else state | {"bonus_claimed": state["bonus_claimed"] + row["amount"]}


def _partner_set(_state: State | None, row: dict[str, Any]) -> State:
    return _pick(row, "burn_on_redeem", "expires_at", "metadata_hash") | {"registered": True}


def _partner_removed(state: State | None, _row: dict[str, Any]) -> State | None:
    return None if state is None else state | {"registered": False}


def _enrolled(_state: State | None, row: dict[str, Any]) -> State:
    return _pick(row, "party", "enroller", "evidence_hash") | {
        "enrolled": True,
        "enrolled_block": row["block_number"],
        "enrolled_tx": row["tx_hash"],
        "withdrawn_by": None,
        "reason_code": None,
    }


def _withdrawn(state: State | None, row: dict[str, Any]) -> State | None:
    if state is None:
        return None  # the enrolment is not in the mirror (it cannot be later than this one)
    return state | {"enrolled": False, "withdrawn_by": row["by_address"], "reason_code": row["reason_code"]}


def _role(state: State | None, row: dict[str, Any]) -> State | None:
    return {"granted_by": row["sender"]} if row["granted"] else None


PROJECTIONS: tuple[Projection, ...] = (
    Balances(),
    Residents(),
    Fold(
        "plogging_review",
        PLOGGING_REVIEW,
        1,
        ("digest",),
        {
            "plogging_verification": _review(2),  # SessionStatus.Accepted
            "plogging_rejection": _review(3),
            "plogging_revocation": _review(4),
        },
    ),
    Fold(
        "feedback_item",
        FEEDBACK_ITEM,
        1,
        ("item_id",),
        {
            "feedback_submission": _feedback_created,
            "feedback_support": _update(support_count="support_count"),
            "feedback_answer_required": _update(answer_due_at="due_at"),
            "feedback_review_start": _status(2),
            "feedback_answer": _answered,
            "feedback_closure": _status(4),
            "feedback_moderation": _update(hidden="hidden"),
        },
    ),
    Fold(
        "campaign",
        CAMPAIGN,
        1,
        ("campaign_id",),
        {
            "campaign_creation": lambda _s, row: _pick(row, *_CAMPAIGN_FIELDS),
            "campaign_progress_report": _update(progress="progress"),
            "campaign_finalization": _update(status="status", progress="progress"),
            "campaign_bonus_set": _update(bonus_root="root", bonus_total="total"),
            "bonus_claim": _claimed,
        },
    ),
    Fold(
        "partner",
        PARTNER,
        1,
        ("partner",),
        {"partner_set": _partner_set, "partner_removal": _partner_removed},
    ),
    Fold(
        "cause",
        CAUSE,
        1,
        ("cause_id",),
        {"cause_set": lambda _s, row: _pick(row, "wallet", "active", "metadata_hash")},
    ),
    Fold("role_member", ROLE_MEMBER, 1, ("contract", "role", "account"), {"role_event": _role}),
    Fold(
        "contract_pause",
        CONTRACT_PAUSE,
        1,
        ("contract",),
        {"pause_event": lambda _s, row: {"paused": row["paused"], "by_address": row["account"]}},
    ),
    Fold(
        "enrolment",
        ENROLMENT,
        1,
        ("resident",),
        {"resident_enrolment": _enrolled, "resident_withdrawal": _withdrawn},
    ),
    Fold(
        "feedback_category",
        FEEDBACK_CATEGORY,
        1,
        ("category",),
        {"feedback_category_set": lambda _s, row: _pick(row, "enabled", "name")},
    ),
)
