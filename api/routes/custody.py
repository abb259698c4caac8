"""Custodial wallets: the calling platform authenticates the resident, the city's key signs.

Every route needs `Authorization: Bearer <platform token>` (`esg-ledger platform add`; in
development also the legacy ESG_PLATFORM_TOKENS, as the platform "default"). A wallet belongs to
the platform that created it: any other platform gets 403 `wrong_platform`. Export needs a fresh
re-authentication assertion (`Reauth-Timestamp`, `Reauth-Signature`: docs/api.md) and happens
once. Without ESG_CUSTODY_MASTER_KEY (outside development) the routes answer 503.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse

from ledger.custody import export_wallet, get_wallet, sign_for
from ledger.errors import ActionError, ReauthRequiredError
from ledger.platforms import (
    REAUTH_SIGNATURE_HEADER,
    REAUTH_TIMESTAMP_HEADER,
    get_platform,
    provision,
    request_evidence,
    verify_reauth,
    webhook_secret,
)

from ..deps import ServicesDep, SessionDep
from ..platform_deps import Acting, Caller, Keys, Vouching
from ..platform_schemas import (
    SUBJECT_PATTERN,
    CustodialActionRequest,
    ExportRequest,
    ExportResponse,
    SignedActionResponse,
    WalletRequest,
    WalletResponse,
)
from ..schemas import SubmitResponse

router = APIRouter(prefix="/v1/custody", tags=["custody"])

SubjectPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=SUBJECT_PATTERN,
        description="The platform's id for the resident.",
    ),
]

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid platform token (`not_authenticated`)."},
    403: {"description": "The wallet belongs to another platform (`wrong_platform`)."},
    413: {"description": "The request body is over the size limit."},
    422: {"description": "A field is missing or malformed; `field` names it."},
    503: {"description": "Custody is not configured (`custody_unavailable`), or the node is unavailable."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No custodial wallet for the subject (`wallet_not_found`)."}
}


def _wallet(wallet: Any) -> dict[str, Any]:
    return {
        "subject": wallet.subject,
        "address": wallet.address,
        "platform": wallet.platform_id,
        "exported": wallet.exported_at is not None,
    }


@router.post(
    "/wallets",
    status_code=201,
    response_model=WalletResponse,
    responses={
        **_AUTH,
        403: {
            "description": "The wallet belongs to another platform (`wrong_platform`), or, under "
            "ESG_ENROLMENT_POLICY=enrolled, the platform's enroller address does not hold ENROLLER_ROLE "
            "(`platform_not_enroller`: the detail names the grant to run); nothing is recorded."
        },
        409: {"description": "The chain refuses the platform's enrolment now (`call_reverts`)."},
    },
)
def wallet(
    body: WalletRequest, caller: Caller, keys: Keys, vouching: Vouching, session: SessionDep
) -> dict[str, Any]:
    """The resident's custodial wallet, created and enrolled by the platform's own key on first call."""
    stored, _ = provision(
        session=session,
        platform=caller,
        subject=body.subject,
        keys=keys,
        enrolling=vouching,
        evidence_hash=request_evidence(caller.id, body.subject),
    )
    return _wallet(stored)


@router.get("/wallets/{subject}", response_model=WalletResponse, responses={**_AUTH, **_NOT_FOUND})
def read_wallet(subject: SubjectPath, caller: Caller, session: SessionDep) -> dict[str, Any]:
    """The platform's custodial wallet for the subject: address, and whether it was exported."""
    return _wallet(get_wallet(session=session, subject=subject, platform_id=caller.id))


@router.post(
    "/actions",
    status_code=202,
    response_model=SubmitResponse,
    responses={
        **_AUTH,
        **_NOT_FOUND,
        200: {"model": SignedActionResponse, "description": "`submit: false`: signed, not queued."},
        403: {
            "description": "Another platform's wallet (`wrong_platform`), a kind the platform may "
            "not submit (`kind_not_allowed`), or, under ESG_ENROLMENT_POLICY=enrolled, a resident "
            "nobody enrolled (`not_enrolled`, before any nonce or gas)."
        },
        409: {"description": "The key was exported (`wallet_exported`), or the action conflicts."},
        429: {"description": "The resident's rate limit or daily cap."},
    },
)
def act(
    body: CustodialActionRequest,
    caller: Caller,
    keys: Keys,
    acting: Acting,
    services: ServicesDep,
    session: SessionDep,
) -> Any:
    """Prepares, signs with the resident's custodial key, and accepts an action (or only signs it)."""
    signed = sign_for(
        session=session,
        ctx=acting,
        keys=keys,
        platform_id=caller.id,
        allowed_kinds=caller.kinds,
        subject=body.subject,
        kind_name=body.kind,
        payload=body.payload,
        now=int(time.time()),
    )
    if not body.submit:
        answer = {"id": signed.action.id, "typedData": signed.typed_data, "signature": signed.signature}
        return JSONResponse(
            SignedActionResponse.model_validate(answer).model_dump(mode="json"), status_code=200
        )
    stored = services.accept_queue.accept([signed.action])[0]
    if isinstance(stored, ActionError):
        raise stored
    return {"id": stored.id, "status": stored.status}


@router.post(
    "/wallets/{subject}/export",
    response_model=ExportResponse,
    responses={
        **_AUTH,
        **_NOT_FOUND,
        401: {
            "description": "No valid platform token (`not_authenticated`), or no fresh re-authentication "
            "(`reauth_required`, `reauth_signature_mismatch`, `reauth_timestamp_stale`, …)."
        },
        409: {"description": "Exported already (`already_exported`): the city holds no copy of the key."},
    },
)
def export(
    subject: SubjectPath,
    body: ExportRequest,
    caller: Caller,
    keys: Keys,
    services: ServicesDep,
    session: SessionDep,
    reauth_timestamp: Annotated[
        str | None,
        Header(
            alias=REAUTH_TIMESTAMP_HEADER, max_length=32, description="Unix seconds of the re-authentication."
        ),
    ] = None,
    reauth_signature: Annotated[
        str | None,
        Header(
            alias=REAUTH_SIGNATURE_HEADER,
            max_length=512,
            description='v1=<hex HMAC-SHA256(webhook secret, "reauth.<subject>.<timestamp>")>',
        ),
    ] = None,
) -> dict[str, Any]:
    """Hands the key to the resident once, as an encrypted keystore; the city's copy is destroyed."""
    get_wallet(session=session, subject=subject, platform_id=caller.id)  # 404 / 403 before anything else
    if caller.legacy:
        raise ReauthRequiredError(
            "the legacy ESG_PLATFORM_TOKENS platform has no secret to re-authenticate with; register the "
            "platform (esg-ledger platform add) to export",
            code="reauth_unavailable",
        )
    verify_reauth(
        secret=webhook_secret(get_platform(session=session, platform_id=caller.id), keys),
        subject=subject,
        timestamp=reauth_timestamp,
        signature=reauth_signature,
        now=time.time(),
        tolerance=services.settings.webhook_tolerance,
    )
    keystore = export_wallet(
        session=session,
        subject=subject,
        platform_id=caller.id,
        keys=keys,
        password=body.password.get_secret_value(),
    )
    session.commit()
    return {"subject": subject, "address": "0x" + keystore["address"], "keystore": keystore}
