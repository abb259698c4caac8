"""Custodial wallets: the calling platform authenticates the resident, the city's key signs.

Every route needs `Authorization: Bearer <platform token>` (ESG_PLATFORM_TOKENS): the platform
vouches that the resident named by `subject` is signed in. Without ESG_CUSTODY_MASTER_KEY the
routes answer 503.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path

from ledger.custody import KeyEncrypter, LocalMasterKey, create_wallet, export_wallet, get_wallet, sign_action
from ledger.errors import ActionError, CustodyUnavailableError, NotAuthenticatedError
from ledger.kinds import kind

from ..deps import ServicesDep, SessionDep
from ..schemas import (
    SUBJECT_PATTERN,
    CustodialActionRequest,
    ExportRequest,
    ExportResponse,
    SubmitRequest,
    SubmitResponse,
    WalletRequest,
    WalletResponse,
)
from .actions import build_typed_data, verify_body

router = APIRouter(prefix="/v1/custody", tags=["custody"])


def _platform(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> KeyEncrypter:
    master = services.settings.custody_master_key
    if master is None:
        raise CustodyUnavailableError("custodial wallets are not configured (ESG_CUSTODY_MASTER_KEY)")
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token or not any(
        hmac.compare_digest(token.encode(), t.get_secret_value().encode())
        for t in services.settings.platform_tokens
    ):
        raise NotAuthenticatedError("a platform token (Authorization: Bearer …) is required")
    return LocalMasterKey(bytes.fromhex(master.get_secret_value().removeprefix("0x")))


Keys = Annotated[KeyEncrypter, Depends(_platform)]
SubjectPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=SUBJECT_PATTERN,
        description="The platform's id for the resident.",
    ),
]


@router.post("/wallets", status_code=201, response_model=WalletResponse, responses={401: {}, 503: {}})
def wallet(body: WalletRequest, keys: Keys, session: SessionDep) -> dict[str, Any]:
    """The resident's custodial wallet, created on first call (the same subject always gets the same)."""
    stored = create_wallet(session=session, subject=body.subject, keys=keys)
    session.commit()
    return {"subject": stored.subject, "address": stored.address, "exported": stored.exported_at is not None}


@router.post(
    "/actions", status_code=202, response_model=SubmitResponse, responses={401: {}, 404: {}, 409: {}}
)
def act(
    body: CustodialActionRequest, keys: Keys, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Prepares, signs with the resident's custodial key, and accepts an action in one call."""
    address = get_wallet(session=session, subject=body.subject).address
    typed = build_typed_data(services, session, kind=body.kind, resident=address, payload=body.payload)
    _, signature = sign_action(
        session=session, subject=body.subject, keys=keys, spec=kind(body.kind).eip712, typed_data=typed
    )
    session.rollback()  # end this request's transaction: the accept queue's writer needs the lock
    # The same checks as any submission: what was signed is exactly what this deployment prepared.
    now = int(typed["message"]["deadline"]) - services.settings.action_ttl
    action = verify_body(services, SubmitRequest(typedData=typed, signature=signature), now, erc1271=False)
    stored = services.accept_queue.accept([action])[0]
    if isinstance(stored, ActionError):
        raise stored
    return {"id": stored.id, "status": stored.status}


@router.post("/wallets/{subject}/export", response_model=ExportResponse, responses={401: {}, 404: {}})
def export(subject: SubjectPath, body: ExportRequest, keys: Keys, session: SessionDep) -> dict[str, Any]:
    """Hands the key to the resident as an encrypted keystore; the city stops signing for them."""
    keystore = export_wallet(
        session=session, subject=subject, keys=keys, password=body.password.get_secret_value()
    )
    session.commit()
    return {"subject": subject, "address": "0x" + keystore["address"], "keystore": keystore}
