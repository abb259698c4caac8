"""Redemption requests: a resident's signed redemption as the QR payload a partner's desk reads
(ledger/redemption_requests.py), for clients that do not encode it themselves."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ledger import redemption_requests
from ledger.intake import verify_submission

from ..deps import ServicesDep
from ..schemas import ErrorResponse
from ..services import Services

router = APIRouter(prefix="/v1/redemption-requests", tags=["actions"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The redemption's deadline passed."},
    422: {
        "model": ErrorResponse,
        "description": "Not a redemption as prepare hands it out, or a signature that is not the "
        "resident's (`invalid_action`, `invalid_signature`; `field` names it), or a signature too long "
        "for a QR request (more than 256 bytes).",
    },
}


class SignedRedemption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    typedData: dict[str, Any] = Field(
        description="The typed data POST /v1/actions/prepare handed out for a `redemption`, unchanged."
    )
    signature: str = Field(
        pattern=r"^0x(?:[0-9a-fA-F]{2}){1,256}$",
        description="The resident's signature over it (65 bytes for a wallet key).",
    )


class RedemptionRequestResponse(BaseModel):
    request: str = Field(
        description="The QR payload: show it as a QR code; the partner's desk reads it.",
        examples=[redemption_requests.PREFIX + "AAAAAAAAemk" + "A" * 260],
    )
    id: str = Field(description="The action's id once accepted (its EIP-712 digest).")
    deadline: int = Field(description="Unix seconds: the partner must accept it before this.")


def _encode(services: Services, body: SignedRedemption) -> dict[str, Any]:
    action = verify_submission(
        body.typedData,
        body.signature,
        chain_id=services.deployment.chain_id,
        contracts=services.contract_addresses,
        now=int(time.time()),
        erc1271=services.erc1271_valid,
    )
    request = redemption_requests.encode(body.typedData, action.signature)
    return {"request": request, "id": action.id, "deadline": action.deadline}


@router.post("", response_model=RedemptionRequestResponse, responses=_REFUSED)
async def encode(body: SignedRedemption, services: ServicesDep) -> dict[str, Any]:
    """Checks a signed redemption as submit does, and returns it as a QR payload (nothing is stored)."""
    return await run_in_threadpool(_encode, services, body)
