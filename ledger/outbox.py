"""Data functions over the outbox tables. Keyword-only, each takes the session it works in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from .errors import RateLimitedError
from .kinds import VerifiedAction
from .models import Action, ActionPublic, ActionStatus, ResidentNonce
from .relayer.state import log_accepted

DAY = 86_400


@dataclass(frozen=True)
class ResidentLimits:
    """Checked when an action is accepted, before any gas is spent on it. 0 switches a limit off."""

    per_minute: int
    per_day: int


_ACTIONS: Table = Action.__table__  # type: ignore[attr-defined]


def _insert(session: Session) -> Callable[[Any], Any]:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class Accepted:
    """What the API answers for an accepted action: its id (the digest) and where it stands."""

    id: str
    status: str


def accept_action(
    *, session: Session, action: VerifiedAction, limits: ResidentLimits | None = None
) -> Accepted:
    """Stores the action as queued unless an action with the same digest exists; returns where it stands.

    The caller commits before answering the client, so an accepted action is durable.
    """
    stored = accept_actions(session=session, actions=[action], limits=limits)[0]
    if isinstance(stored, RateLimitedError):
        raise stored
    return stored


# Built once: the accept path runs these on every commit, and building a statement (coercing its
# clauses) cost more CPU than running it. Each takes its values as bind parameters.
_EXISTING = sa_select(_ACTIONS.c.id, _ACTIONS.c.status).where(
    _ACTIONS.c.id.in_(bindparam("ids", expanding=True))
)
_RECENT = (
    sa_select(
        _ACTIONS.c.resident,
        func.sum(case((_ACTIONS.c.created_at >= bindparam("minute_start"), 1), else_=0)),
        func.sum(case((_ACTIONS.c.created_at >= bindparam("day_start"), 1), else_=0)),
    )
    .where(
        _ACTIONS.c.resident.in_(bindparam("residents", expanding=True)),
        _ACTIONS.c.created_at >= bindparam("since"),
    )
    .group_by(_ACTIONS.c.resident)
)
# No conflict is possible (the digests are looked up under the write lock first) except from another
# process on PostgreSQL: "do nothing" keeps that race harmless.
_INSERT = {
    name: dialect.insert(_ACTIONS).on_conflict_do_nothing(index_elements=["id"]).returning(_ACTIONS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def accept_actions(
    *, session: Session, actions: list[VerifiedAction], limits: ResidentLimits | None = None
) -> list[Accepted | RateLimitedError]:
    """Accepts many actions in one transaction; for each, where it stands or why it was refused.

    An action already stored (same digest) is answered as it stands and never counts against a limit.
    """
    now = time.time()
    conn = session.connection()  # Core statements on the session's transaction: no ORM per row
    ids = list(dict.fromkeys(a.id for a in actions))
    existing = {str(i): Accepted(str(i), str(st)) for i, st in conn.execute(_EXISTING, {"ids": ids})}
    fresh = list({a.id: a for a in actions if a.id not in existing}.values())
    refused = _over_limits(conn, actions=fresh, limits=limits, now=now) if limits else {}
    rows = [
        {
            "id": a.id,
            "kind": a.kind,
            "contract": a.contract,
            "resident": a.resident,
            "nonce": a.nonce,
            "deadline": a.deadline,
            "message": a.message_json(),
            "signature": a.signature,
            "status": ActionStatus.QUEUED,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for a in fresh
        if a.id not in refused
    ]
    if rows:
        inserted = conn.execute(_INSERT[conn.dialect.name], rows)
        log_accepted(session, [str(r[0]) for r in inserted])
    queued = {a.id: Accepted(a.id, ActionStatus.QUEUED) for a in fresh if a.id not in refused}
    return [existing.get(a.id) or refused.get(a.id) or queued[a.id] for a in actions]


def _over_limits(
    conn: Connection, *, actions: list[VerifiedAction], limits: ResidentLimits, now: float
) -> dict[str, RateLimitedError]:
    if not actions or (limits.per_minute == 0 and limits.per_day == 0):
        return {}
    day_start = now - now % DAY
    params = {
        "minute_start": now - 60,
        "day_start": day_start,
        "since": min(day_start, now - 60),
        "residents": sorted({a.resident for a in actions}),
    }
    counts = {
        str(resident): [int(minute or 0), int(today or 0)]
        for resident, minute, today in conn.execute(_RECENT, params)
    }
    refused: dict[str, RateLimitedError] = {}
    for a in actions:
        minute, today = counts.setdefault(a.resident, [0, 0])
        if limits.per_day and today >= limits.per_day:
            refused[a.id] = RateLimitedError(
                f"{a.resident} reached the daily cap of {limits.per_day} actions",
                field="typedData.message.resident",
            )
        elif limits.per_minute and minute >= limits.per_minute:
            refused[a.id] = RateLimitedError(
                f"{a.resident} sent more than {limits.per_minute} actions in the last minute; retry later",
                field="typedData.message.resident",
            )
        else:
            counts[a.resident] = [minute + 1, today + 1]
    return refused


def get_action(*, session: Session, action_id: str) -> Action | None:
    return session.get(Action, action_id.lower())


def to_public(action: Action) -> ActionPublic:
    return ActionPublic(
        id=action.id,
        kind=action.kind,
        status=action.status,
        txHash=action.tx_hash,
        blockNumber=action.block_number,
        logIndex=action.log_index,
        error=action.error,
    )


def allocate_resident_nonce(*, session: Session, contract: str, resident: str, chain_next: int) -> int:
    """Hands out the resident's next nonce for `contract`, never below the chain's own `next`."""
    stmt = (
        _insert(session)(ResidentNonce)
        .values(contract=contract, resident=resident, next_nonce=chain_next)
        .on_conflict_do_nothing(index_elements=["contract", "resident"])
    )
    session.execute(stmt)
    greatest = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    row = session.execute(
        update(ResidentNonce)
        .where(col(ResidentNonce.contract) == contract, col(ResidentNonce.resident) == resident)
        .values(next_nonce=greatest(ResidentNonce.next_nonce, chain_next) + 1)
        .returning(col(ResidentNonce.next_nonce))
    ).scalar_one()
    return int(row) - 1


def count_by_status(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Action.status, func.count()).group_by(Action.status)).all()
    return {str(s): int(n) for s, n in rows}
