"""Residents' signed actions: prepare the typed data, accept the signed action, report its status."""

from __future__ import annotations

import time
from typing import Annotated, Any

from eth_abi.abi import decode
from eth_hash.auto import keccak
from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import JSONResponse

from ledger.actions import action_type, parse_address, parse_payload, verify_submission
from ledger.errors import InvalidActionError
from ledger.feedback import category_id, store_content
from ledger.models import ActionPublic
from ledger.outbox import accept_action, allocate_resident_nonce, get_action, to_public

from ..deps import ServicesDep, SessionDep
from ..schemas import PrepareRequest, PrepareResponse, SubmitRequest, SubmitResponse

router = APIRouter(prefix="/v1/actions", tags=["actions"])

_NONCE_WINDOW = keccak(b"nonceWindow(address)")[:4]
ActionId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The action's EIP-712 digest.")]


def _check_ended(message: dict[str, Any], now: int, field: str) -> None:
    if "startedAt" in message and message["startedAt"] + message["durationSeconds"] > now:
        raise InvalidActionError(
            f"the session ends at {message['startedAt'] + message['durationSeconds']}, after now ({now}); "
            "submit it once it has ended",
            field=field,
        )


@router.post("/prepare", response_model=PrepareResponse)
def prepare(body: PrepareRequest, services: ServicesDep, session: SessionDep) -> dict[str, Any]:
    """Builds the EIP-712 typed data a resident signs, with a fresh nonce and a deadline."""
    spec = action_type(body.kind)
    resident = parse_address(body.resident, field="resident")
    payload = parse_payload(body.kind, body.payload)
    now = int(time.time())
    if body.kind == "feedback":
        fields = {
            "category": category_id(
                session=session, chain_id=services.deployment.chain_id, name=payload["category"]
            ),
            "areaCode": payload["areaCode"],
            "contentHash": store_content(
                session=session, resident=resident, category=payload["category"], content=payload["content"]
            ),
        }
    else:
        _check_ended(payload, now, "payload.startedAt")
        fields = payload
    contract = services.deployment.address(spec.contract)
    window = services.rpc.call(
        "eth_call",
        [
            {"to": contract, "data": "0x" + (_NONCE_WINDOW + bytes(12) + bytes.fromhex(resident[2:])).hex()},
            "latest",
        ],
    )
    chain_next = decode(["uint64", "uint128"], bytes.fromhex(window[2:]))[0]
    nonce = allocate_resident_nonce(
        session=session, contract=contract, resident=resident, chain_next=chain_next
    )
    session.commit()
    message = {
        "resident": resident,
        **fields,
        "nonce": nonce,
        "deadline": now + services.settings.action_ttl,
    }
    return {"typedData": spec.typed_data(services.deployment.chain_id, contract, message)}


@router.post("", status_code=202, response_model=SubmitResponse)
def submit(body: SubmitRequest, services: ServicesDep, session: SessionDep) -> dict[str, Any]:
    """Accepts a signed action into the durable outbox; the same action twice returns the same id."""
    now = int(time.time())
    action = verify_submission(
        body.typedData,
        body.signature,
        chain_id=services.deployment.chain_id,
        contracts={name: c.address for name, c in services.deployment.contracts.items()},
        now=now,
        erc1271=services.erc1271_valid,
    )
    _check_ended(action.message, now, "typedData.message.startedAt")
    stored = accept_action(session=session, action=action)
    session.commit()
    return {"id": stored.id, "status": stored.status}


@router.get("/{action_id}", response_model=ActionPublic, responses={404: {}})
def status(action_id: ActionId, session: SessionDep) -> ActionPublic | JSONResponse:
    """Where an action stands: queued, submitted, confirmed (with its log) or failed (with the reason)."""
    action = get_action(session=session, action_id=action_id)
    if action is None:
        raise HTTPException(404, f"no action {action_id}")
    return to_public(action)
