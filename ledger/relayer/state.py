"""The action state machine. Every transition goes through `move`, which logs it in `action_event`.

queued ──▶ submitted ──▶ confirmed
  │  ▲         │  │  ▲        │
  │  └─────────┘  │  └────────┘  reorg / lost block: the same transaction is in flight again
  │   reverted,   ▼
  │   dropped,  failed  (an ActionFailed reason; back to submitted on a reorg, like confirmed)
  │   expired
  └──▶ failed (pre-flight reason, deadline passed) · confirmed (recorded earlier, found by digest)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session, col

from ..models import Action, ActionEvent, ActionStatus

_TABLE: Table = Action.__table__  # type: ignore[attr-defined]  # Core, for executemany with bindparams
# Built once, run on the connection: a Core executemany, without the ORM's bulk-insert bookkeeping.
_INSERT_EVENT = insert(ActionEvent.__table__)  # type: ignore[attr-defined]
Q, S, C, F = ActionStatus.QUEUED, ActionStatus.SUBMITTED, ActionStatus.CONFIRMED, ActionStatus.FAILED
ALLOWED: dict[str, frozenset[str]] = {
    Q: frozenset({S, F, C}),
    S: frozenset({C, F, Q}),
    C: frozenset({S}),
    F: frozenset({S}),
}


def move(
    session: Session,
    *,
    ids: Iterable[str],
    from_: str,
    to: str,
    tx_id: int | None = None,
    reason: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[str]:
    """Moves the actions that are still in `from_` to `to`; returns the ids that moved."""
    if to not in ALLOWED[from_]:
        raise ValueError(f"no transition {from_} → {to}")
    ids = list(ids)
    if not ids:
        return []
    now = time.time()
    moved: list[str] = []
    for start in range(0, len(ids), 500):  # keeps each IN list well under SQLite's variable limit
        chunk = ids[start : start + 500]
        rows = session.execute(
            update(Action)
            .where(col(Action.id).in_(chunk), col(Action.status) == from_)
            .values(status=to, updated_at=now, **(values or {}))
            .returning(col(Action.id))
        )
        moved.extend(str(r[0]) for r in rows)
    _log(session, moved, from_, to, tx_id, reason, now)
    return moved


def confirm_each(session: Session, *, records: Mapping[str, tuple[str, int, int]], tx_id: int | None) -> None:
    """submitted → confirmed, each with its own (tx hash, block, log index)."""
    if not records:
        return
    now = time.time()
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.status == S)
        .values(
            status=C,
            tx_hash=bindparam("b_hash"),
            block_number=bindparam("b_block"),
            log_index=bindparam("b_log"),
            error=None,
            updated_at=now,
        ),
        [{"b_id": a, "b_hash": h, "b_block": b, "b_log": i} for a, (h, b, i) in records.items()],
    )
    _log(session, list(records), S, C, tx_id, None, now)


def fail_each(session: Session, *, reasons: Mapping[str, str], from_: str, tx_id: int | None) -> list[str]:
    """→ failed, each with its own reason; returns the ids that moved (those still in `from_`: another
    process may have moved some meanwhile, and their history must not show a move that did not happen)."""
    if not reasons:
        return []
    now = time.time()
    ids = list(reasons)
    still: list[str] = []
    for start in range(0, len(ids), 500):  # keeps each IN list well under SQLite's variable limit
        chunk = ids[start : start + 500]
        still += [
            str(r[0])
            for r in session.connection().execute(
                select(_TABLE.c.id).where(_TABLE.c.id.in_(chunk), _TABLE.c.status == from_).with_for_update()
            )
        ]
    if not still:
        return []
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.status == from_)
        .values(status=F, error=bindparam("b_error"), updated_at=now),
        [{"b_id": a, "b_error": reasons[a]} for a in still],
    )
    session.connection().execute(
        _INSERT_EVENT,
        [
            {
                "action_id": a,
                "from_status": from_,
                "to_status": F,
                "tx_id": tx_id,
                "reason": reasons[a],
                "at": now,
            }
            for a in still
        ],
    )
    return still


def _log(
    session: Session,
    ids: list[str],
    from_: str | None,
    to: str,
    tx_id: int | None,
    reason: str | None,
    at: float,
) -> None:
    if ids:
        session.connection().execute(
            _INSERT_EVENT,
            [
                {
                    "action_id": i,
                    "from_status": from_,
                    "to_status": to,
                    "tx_id": tx_id,
                    "reason": reason,
                    "at": at,
                }
                for i in ids
            ],
        )


def log_accepted(session: Session, ids: list[str]) -> None:
    _log(session, ids, None, Q, None, None, time.time())
