"""Webhook deliveries: the event id is the idempotency key.

A delivery is claimed (a row, committed) before any of its actions run, and its answer is stored
when they have: a redelivery of the same event (a retry after a timeout, with a new timestamp and
signature) gets the stored answer and records nothing; the same event id with another body is a
conflict. A claim that never finished (the process died) may be taken over after `LEASE` seconds;
actions it accepted before dying can then be accepted again (documented in docs/api.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ..errors import WebhookError
from .models import WebhookDelivery

LEASE = 120.0  # seconds a claim is held without an answer before a redelivery may take it over


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: dict[str, Any]


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def claim(
    *, session: Session, platform_id: str, event_id: str, digest: str, now: float
) -> StoredAnswer | None:
    """None: this delivery is claimed now, process it. A StoredAnswer: an earlier one finished."""
    existing = session.get(WebhookDelivery, (platform_id, event_id))
    if existing is None:
        session.add(
            WebhookDelivery(platform_id=platform_id, event_id=event_id, body_hash=digest, created_at=now)
        )
        try:
            session.commit()
            return None
        except IntegrityError:  # a concurrent delivery of the same event claimed it first
            session.rollback()
            existing = session.get(WebhookDelivery, (platform_id, event_id))
            assert existing is not None
    if existing.body_hash != digest:
        raise WebhookError(
            f"event {event_id!r} was delivered before with a different body",
            code="webhook_event_conflict",
            status=409,
            field="id",
        )
    if existing.status_code is not None and existing.result is not None:
        return StoredAnswer(status_code=existing.status_code, body=json.loads(existing.result))
    if now - existing.created_at < LEASE:
        raise WebhookError(
            f"event {event_id!r} is being processed; deliver it again later for its answer",
            code="webhook_delivery_in_progress",
            status=409,
            field="id",
        )
    taken = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.platform_id) == platform_id,
            col(WebhookDelivery.event_id) == event_id,
            col(WebhookDelivery.created_at) == existing.created_at,
        )
        .values(created_at=now)
    )
    session.commit()
    if getattr(taken, "rowcount", 0) != 1:
        raise WebhookError(
            f"event {event_id!r} is being processed; deliver it again later for its answer",
            code="webhook_delivery_in_progress",
            status=409,
            field="id",
        )
    return None


def finish(
    *, session: Session, platform_id: str, event_id: str, status_code: int, body: dict[str, Any], now: float
) -> None:
    """Stores the delivery's answer: every later delivery of the event gets exactly this."""
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.platform_id) == platform_id, col(WebhookDelivery.event_id) == event_id)
        .values(status_code=status_code, result=json.dumps(body, separators=(",", ":")), finished_at=now)
    )
    session.commit()


def release(*, session: Session, platform_id: str, event_id: str) -> None:
    """Drops an unfinished claim (its processing failed before any action was accepted)."""
    session.rollback()
    row = session.get(WebhookDelivery, (platform_id, event_id))
    if row is not None and row.status_code is None:
        session.delete(row)
        session.commit()
