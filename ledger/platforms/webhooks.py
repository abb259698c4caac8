"""Signed webhook deliveries from a platform: verify, parse, claim, act for each user, answer.

The signature is checked over the raw bytes before anything parses them (signatures.py); the
event id makes the delivery idempotent (deliveries.py). Each action names the platform's user;
the user's custodial resident is provisioned (and enrolled by the platform) on first use
(provisioning.py; the evidence is the delivery's body hash), and the action goes
through custody's one path (`ledger.custody.sign_for`, the same as `POST /v1/custody/actions`) and
then the accept queue, all of a delivery's actions together. One refused action costs the others
nothing: each gets its own result, in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from ..committer import AcceptQueue
from ..custody import ActingContext, KeyEncrypter, check_kind, sign_for
from ..errors import ActionError, CustodyError
from ..kinds import VerifiedAction
from ..models import CustodialWallet
from .deliveries import StoredAnswer, body_hash, claim, finish, release
from .models import EVENT_ID_PATTERN, USER_ID_PATTERN, Platform
from .provisioning import Enrolling, delivery_evidence, platform_enroller, provision, subject_for
from .registry import identity, webhook_secret
from .signatures import verify_webhook

MAX_ACTIONS = 100


class WebhookAction(BaseModel):
    """One resident's action in a delivery: the platform's user id, the kind and its payload."""

    model_config = ConfigDict(extra="forbid")

    userId: str = Field(
        min_length=1,
        max_length=96,
        pattern=USER_ID_PATTERN,
        description="The platform's own id for its user (printable ASCII, no spaces); the custodial "
        'subject is "<platformId>:<userId>".',
        examples=["user-1842"],
    )
    kind: str = Field(
        pattern=r"^[a-z]{1,32}$", description="An action kind the platform may submit.", examples=["plogging"]
    )
    payload: dict[str, Any] = Field(description="The kind's payload, as for /v1/actions/prepare.")


class WebhookEvent(BaseModel):
    """A delivery's body. `id` is the idempotency key: redelivering it returns the first answer."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="The event id, unique per platform; a retry repeats it.",
        examples=["evt_01HZX3T9R8"],
    )
    type: Literal["actions"] = Field(default="actions", description="What the event carries.")
    actions: list[WebhookAction] = Field(min_length=1, max_length=MAX_ACTIONS)


@dataclass(frozen=True)
class ActionResult:
    """One action's outcome: accepted (`id`, `status`) or refused (`code`, `message`, `field`)."""

    user_id: str
    resident: str | None
    id: str | None = None
    status: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None


def authenticate_delivery(
    *,
    platform: Platform,
    keys: KeyEncrypter,
    raw: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float,
    tolerance: float,
) -> WebhookEvent:
    """The delivery's event, once its signature checks out over the raw bytes; raises WebhookError
    before parsing anything, pydantic's ValidationError for a signed body of the wrong shape."""
    verify_webhook(
        secret=webhook_secret(platform, keys),
        body=raw,
        timestamp=timestamp,
        signature=signature,
        now=now,
        tolerance=tolerance,
    )
    return WebhookEvent.model_validate_json(raw)


def _refused(user_id: str, resident: str | None, index: int, exc: ActionError | CustodyError) -> ActionResult:
    field = getattr(exc, "field", None)
    message = exc.message if isinstance(exc, ActionError) else str(exc)
    where = f"actions.{index}" + (f".{field}" if field else "")
    return ActionResult(user_id=user_id, resident=resident, code=exc.code, message=message, field=where)


_Signed = tuple[int, str, VerifiedAction]


def _sign_all(
    *,
    session: Session,
    platform: Platform,
    event: WebhookEvent,
    keys: KeyEncrypter,
    ctx: ActingContext,
    enrolling: Enrolling | None,
    evidence: str,
) -> tuple[list[ActionResult | None], list[_Signed]]:
    """Each action provisioned, prepared and signed, or refused; None marks one awaiting acceptance."""
    who = identity(platform)
    now = int(time.time())
    results: list[ActionResult | None] = []
    signed: list[_Signed] = []
    for i, item in enumerate(event.actions):
        resident: str | None = None
        try:
            check_kind(item.kind, who.kinds)
            subject = subject_for(platform.id, item.userId)
            wallet, _ = provision(
                session=session,
                platform=who,
                subject=subject,
                keys=keys,
                enrolling=enrolling,
                evidence_hash=evidence,
            )
            resident = wallet.address
            action = sign_for(
                session=session,
                ctx=ctx,
                keys=keys,
                platform_id=platform.id,
                allowed_kinds=who.kinds,
                subject=subject,
                kind_name=item.kind,
                payload=item.payload,
                now=now,
            ).action
        except (ActionError, CustodyError) as exc:
            session.rollback()
            results.append(_refused(item.userId, resident, i, exc))
            continue
        signed.append((i, resident, action))
        results.append(None)
    return results, signed


def _has_new_users(session: Session, platform: Platform, event: WebhookEvent) -> bool:
    subjects = {subject_for(platform.id, a.userId) for a in event.actions}
    return any(session.get(CustodialWallet, s) is None for s in subjects)


def run_delivery(
    *,
    session: Session,
    platform: Platform,
    event: WebhookEvent,
    raw: bytes,
    keys: KeyEncrypter,
    ctx: ActingContext,
    accept: AcceptQueue,
    render: Callable[[WebhookEvent, list[ActionResult]], dict[str, Any]],
    enrolling: Enrolling | None,
) -> StoredAnswer:
    """The delivery's answer: the stored one for a redelivery, else its actions' results, stored.
    Under `enrolled`, a delivery with new users from a platform that may not enrol is refused whole
    (PlatformNotEnrollerError), before it is claimed: a redelivery once the role is granted works."""
    platform_id, event_id = platform.id, event.id
    if enrolling is not None and enrolling.policy == "enrolled" and _has_new_users(session, platform, event):
        try:
            platform_enroller(session=session, platform=identity(platform), keys=keys, enrolling=enrolling)
        finally:
            session.rollback()
    digest = body_hash(raw)
    earlier = claim(
        session=session, platform_id=platform_id, event_id=event_id, digest=digest, now=time.time()
    )
    if earlier is not None:
        return earlier
    try:
        results, signed = _sign_all(
            session=session,
            platform=platform,
            event=event,
            keys=keys,
            ctx=ctx,
            enrolling=enrolling,
            evidence=delivery_evidence(raw),
        )
    except BaseException:
        # Nothing was accepted yet (the node was unreachable, say): a redelivery starts afresh.
        release(session=session, platform_id=platform_id, event_id=event_id)
        raise
    # From here a failure keeps the claim until its lease ends: the accept queue may have committed.
    outcomes = accept.accept([a for _, _, a in signed]) if signed else []
    for (i, resident, _), outcome in zip(signed, outcomes, strict=True):
        user_id = event.actions[i].userId
        if isinstance(outcome, ActionError):
            results[i] = _refused(user_id, resident, i, outcome)
        else:
            results[i] = ActionResult(
                user_id=user_id, resident=resident, id=outcome.id, status=outcome.status
            )
    body = render(event, [r for r in results if r is not None])
    finish(
        session=session,
        platform_id=platform_id,
        event_id=event_id,
        status_code=200,
        body=body,
        now=time.time(),
    )
    return StoredAnswer(status_code=200, body=body)
