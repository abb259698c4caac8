"""Residents' signed actions: prepare the typed data, accept the signed action, report its status."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection

from indexer import queries
from ledger import intake
from ledger.db import read_scope
from ledger.errors import ActionError, InvalidSignatureError
from ledger.intake import attach, needs_attach, verify_submission
from ledger.kinds import VerifiedAction
from ledger.models import ActionPublic

from ..deps import ServicesDep, SessionDep
from ..errors import entry_error
from ..schemas import (
    BatchSubmitRequest,
    BatchSubmitResponse,
    PrepareRequest,
    PrepareResponse,
    SubmitRequest,
    SubmitResponse,
)
from ..services import Services
from ._mirror import json_response, mirror_read

router = APIRouter(prefix="/v1/actions", tags=["actions"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON (`malformed_json`)."},
    409: {
        "description": "Well formed, but refused for the ledger's state now (`invalid_action`, `field` "
        "names it): a session that has not ended yet, a passed deadline, an unknown category or item, "
        "a balance too low, an item already supported, a partner or cause not active."
    },
    413: {
        "description": "The request body is over the size limit, ESG_MAX_BODY_BYTES (`payload_too_large`)."
    },
    422: {
        "description": "A field is missing, malformed or out of range (`invalid_request`, `invalid_action`), "
        "an unknown kind (`unsupported_action`), or the signature is not the resident's "
        "(`invalid_signature`); `field` names it."
    },
    429: {"description": "The resident's rate limit or daily cap (`rate_limited`); see `Retry-After`."},
    503: {"description": "The chain node is unavailable (`chain_unavailable`)."},
}

ActionId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The action's EIP-712 digest.")]


def build_typed_data(
    services: ServicesDep, session: SessionDep, *, kind: str, resident: str, payload: Any
) -> dict[str, Any]:
    """The typed data `prepare` hands out: validated payload, a fresh nonce, a deadline."""
    return intake.prepare(
        session=session,
        rpc=services.rpc,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        kind_name=kind,
        resident=resident,
        payload=payload,
        now=int(time.time()),
        ttl=services.settings.action_ttl,
        enrolment=services.enrolment,
    )


@router.post("/prepare", response_model=PrepareResponse, responses=_REFUSED)
def prepare(body: PrepareRequest, services: ServicesDep, session: SessionDep) -> dict[str, Any]:
    """Builds the EIP-712 typed data a resident signs, with a fresh nonce and a deadline."""
    return {
        "typedData": build_typed_data(
            services, session, kind=body.kind, resident=body.resident, payload=body.payload
        )
    }


def _verified(services: ServicesDep, body: SubmitRequest, now: int, *, erc1271: bool) -> VerifiedAction:
    return verify_submission(
        body.typedData,
        body.signature,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        now=now,
        erc1271=services.erc1271_valid if erc1271 else None,
        enrolment=services.enrolment,
    )


def _attached(services: ServicesDep, action: VerifiedAction) -> VerifiedAction:
    """The action with what its kind stores beside the signed fields (a claim's proof, from SQL)."""
    if not needs_attach(action):
        return action
    with read_scope(services.engine) as session:
        return attach(action, session=session, chain_id=services.deployment.chain_id)


def verify_body(services: ServicesDep, body: SubmitRequest, now: int, *, erc1271: bool) -> VerifiedAction:
    return _attached(services, _verified(services, body, now, erc1271=erc1271))


async def verify_async(services: ServicesDep, body: SubmitRequest, now: int) -> VerifiedAction:
    # ECDSA is checked on the event loop (~0.1 ms); a signature that is not the resident's ECDSA
    # one (a smart account: ERC-1271 may block on RPC) and a kind that reads SQL go to a thread.
    try:
        action = _verified(services, body, now, erc1271=False)
    except InvalidSignatureError:
        return await run_in_threadpool(verify_body, services, body, now, erc1271=True)
    if needs_attach(action):
        return await run_in_threadpool(_attached, services, action)
    return action


@router.post("", status_code=202, response_model=SubmitResponse, responses=_REFUSED)
async def submit(body: SubmitRequest, services: ServicesDep) -> dict[str, Any]:
    """Accepts a signed action into the durable outbox; the same action twice returns the same id."""
    action = await verify_async(services, body, int(time.time()))
    stored = (await services.accept_queue.accept_async([action]))[0]
    if isinstance(stored, ActionError):
        raise stored
    return {"id": stored.id, "status": stored.status}


@router.post("/batch", status_code=202, response_model=BatchSubmitResponse, responses=_REFUSED)
async def submit_batch(body: BatchSubmitRequest, services: ServicesDep) -> dict[str, Any]:
    """Accepts up to 1,000 signed actions in one durable transaction; each gets its own id or error."""
    now = int(time.time())
    results: list[dict[str, Any]] = []
    verified: list[tuple[int, VerifiedAction]] = []
    for i, item in enumerate(body.actions):
        try:
            verified.append((i, await verify_async(services, item, now)))
            results.append({})
        except ActionError as exc:
            results.append(entry_error(exc.code, exc.message, exc.field))
    stored = await services.accept_queue.accept_async([a for _, a in verified]) if verified else []
    for (i, _), outcome in zip(verified, stored, strict=True):
        if isinstance(outcome, ActionError):
            results[i] = entry_error(outcome.code, outcome.message, outcome.field)
        else:
            results[i] = {"id": outcome.id, "status": outcome.status}
    return {"results": results}


@router.get("/{action_id}", response_model=ActionPublic, responses={404: {}})
def status(action_id: ActionId, services: ServicesDep) -> Response:
    """Where an action stands: queued, submitted, confirmed (with its log) or failed (with the reason)."""
    with mirror_read(services.engine) as conn:  # a Core read: no ORM session for one row
        action = read_status(conn, services, action_id=action_id)
    if action is None:
        raise HTTPException(404, f"no action {action_id}")
    return json_response(action)


def read_status(conn: Connection, _services: Services, *, action_id: str) -> dict[str, Any] | None:
    """The route's answer (None: 404), shared with the lean read path (api/readpath.py)."""
    return queries.action_status(conn, action_id=action_id)
