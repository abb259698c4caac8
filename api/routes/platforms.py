"""Metaverse platforms: signed webhook deliveries, and a platform's view of itself.

`POST /v1/platforms/{platformId}/webhooks` carries `Webhook-Timestamp` and `Webhook-Signature`
(`v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, ledger/platforms/signatures.py); the
signature is checked over the raw bytes before anything parses them, and the event id makes a
redelivery answer the same and record nothing. docs/api.md "Platform journey" shows a sender.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import ValidationError
from sqlmodel import Session

from ledger.custody import ActingContext, KeyEncrypter
from ledger.errors import WebhookError
from ledger.platforms import (
    PLATFORM_ID_PATTERN,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ActionResult,
    Enrolling,
    Platform,
    StoredAnswer,
    WebhookEvent,
    active_platform,
    authenticate_delivery,
    party_for,
    run_delivery,
)

from ..deps import ReadSessionDep, ServicesDep
from ..errors import entry_error
from ..platform_deps import Acting, Caller, Keys, Vouching
from ..platform_schemas import PlatformPublic, WebhookResponse, webhook_body_schema
from ..services import Services

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])

webhook_signature = APIKeyHeader(
    name=SIGNATURE_HEADER,
    scheme_name="WebhookSignature",
    description=f'v1=<hex HMAC-SHA256(webhook secret, "<{TIMESTAMP_HEADER}>.<raw body>")>; several '
    "values may be given, separated by commas or spaces.",
    auto_error=False,
)

PlatformIdPath = Annotated[
    str, Path(alias="platformId", pattern=PLATFORM_ID_PATTERN, description="The platform's id (a slug).")
]


def _render(event: WebhookEvent, results: list[ActionResult]) -> dict[str, Any]:
    def one(r: ActionResult) -> dict[str, Any]:
        head: dict[str, Any] = {"userId": r.user_id, "resident": r.resident}
        if r.code is not None:
            return {**head, **entry_error(r.code, r.message or "", r.field)}
        return {**head, "id": r.id, "status": r.status}

    return {"id": event.id, "results": [one(r) for r in results]}


def _deliver(
    services: Services,
    keys: KeyEncrypter,
    acting: ActingContext,
    vouching: Enrolling,
    platform_id: str,
    raw: bytes,
    timestamp: str | None,
    signature: str | None,
) -> StoredAnswer:
    with Session(services.engine, expire_on_commit=False) as session:
        platform = active_platform(session=session, platform_id=platform_id)
        if platform is None:
            raise WebhookError(
                "no active platform with this id", code="webhook_unknown_platform", field="platformId"
            )
        try:
            event = authenticate_delivery(
                platform=platform,
                keys=keys,
                raw=raw,
                timestamp=timestamp,
                signature=signature,
                now=time.time(),
                tolerance=services.settings.webhook_tolerance,
            )
        except ValidationError as exc:  # signed, but not a delivery: 400/422 naming the field
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        return run_delivery(
            session=session,
            platform=platform,
            event=event,
            raw=raw,
            keys=keys,
            ctx=acting,
            accept=services.accept_queue,
            render=_render,
            enrolling=vouching,
        )


@router.post(
    "/{platformId}/webhooks",
    response_model=WebhookResponse,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": webhook_body_schema()}}}
    },
    responses={
        400: {"description": "Signed, but the body is not JSON (`malformed_json`)."},
        401: {
            "description": "Refused before anything was recorded: `webhook_signature_missing`, "
            "`webhook_signature_malformed`, `webhook_signature_mismatch` (wrong secret or altered body), "
            "`webhook_timestamp_invalid`, `webhook_timestamp_stale` (outside ESG_WEBHOOK_TOLERANCE), "
            "`webhook_unknown_platform` (unknown or revoked)."
        },
        409: {
            "description": "The event id was delivered with another body (`webhook_event_conflict`), or "
            "its first delivery is still being processed (`webhook_delivery_in_progress`: retry later)."
        },
        403: {
            "description": "Under ESG_ENROLMENT_POLICY=enrolled, the delivery names users not provisioned "
            "yet and the platform's enroller address does not hold ENROLLER_ROLE "
            "(`platform_not_enroller`, naming the grant to run); nothing is recorded."
        },
        413: {"description": "The request body is over the size limit."},
        422: {"description": "Signed, but not a delivery: `field` names what is wrong."},
        503: {"description": "Custody is not configured, or the node is unavailable."},
    },
)
async def webhook(
    request: Request,
    platform_id: PlatformIdPath,
    services: ServicesDep,
    keys: Keys,
    acting: Acting,
    vouching: Vouching,
    signature: Annotated[str | None, Security(webhook_signature)] = None,
    timestamp: Annotated[
        str | None, Header(alias=TIMESTAMP_HEADER, max_length=32, description="Unix seconds of the signing.")
    ] = None,
) -> Any:
    """Acts for the platform's users (provisioned, signed, accepted); a redelivery answers the same."""
    raw = await request.body()
    answer = await run_in_threadpool(
        _deliver, services, keys, acting, vouching, platform_id, raw, timestamp, signature
    )
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get(
    "/me",
    response_model=PlatformPublic,
    responses={
        401: {"description": "No valid platform token (`not_authenticated`)."},
        503: {"description": "Custody is not configured (`custody_unavailable`)."},
    },
)
def me(caller: Caller, vouching: Vouching, session: ReadSessionDep) -> dict[str, Any]:
    """The calling platform: id, name, the kinds it may submit, its enroller address and role."""
    row = None if caller.legacy else session.get(Platform, caller.id)
    enroller = None if row is None else row.enroller_address
    return {
        "id": caller.id,
        "name": caller.name,
        "kinds": sorted(caller.kinds),
        "enroller": enroller,
        "enrollerRole": enroller is not None and vouching.may_enrol(enroller),
        "party": party_for(caller.id),
    }
