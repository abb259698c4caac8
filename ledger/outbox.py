"""Data functions over the outbox tables. Keyword-only, each takes the session it works in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from .actions import VerifiedAction
from .models import Action, ActionPublic, ActionStatus, ResidentNonce


def _insert(session: Session) -> Callable[[type[SQLModel]], Any]:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def accept_action(*, session: Session, action: VerifiedAction) -> Action:
    """Stores the action as queued unless an action with the same digest exists; returns the stored one.

    The caller commits before answering the client, so an accepted action is durable.
    """
    now = time.time()
    stmt = (
        _insert(session)(Action)
        .values(
            id=action.id,
            kind=action.kind,
            contract=action.contract,
            resident=action.resident,
            nonce=action.nonce,
            deadline=action.deadline,
            message=action.message_json(),
            signature=action.signature,
            status=ActionStatus.QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    session.execute(stmt)
    stored = session.get(Action, action.id)
    assert stored is not None
    return stored


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
