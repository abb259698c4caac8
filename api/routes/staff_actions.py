"""Staff members' own calls, relayed: prepare the ForwardRequest, accept the signed one.

The status of an accepted request is the existing GET /v1/actions/{id} (kind "staff"). The workflow
routes (verification, feedback, …) call `api.staff_calls.act` instead, which prepares and, for a
custodial member, signs and queues in one step.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ledger.kinds import staff as forward
from ledger.staff.errors import StaffForbiddenError

from ..deps import ServicesDep
from ..schemas import ErrorResponse, SubmitRequest, SubmitResponse
from ..security import StaffDep
from ..staff_calls import accept, prepare, verify

router = APIRouter(prefix="/v1/staff/actions", tags=["staff"])


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


_AUTH: dict[int | str, dict[str, Any]] = {
    401: _error("No staff session cookie or bearer token, or an expired or revoked one."),
    403: _error("Deactivated, the CSRF header missing (cookie sessions), or another member's request."),
    413: _error("The request body is over the size limit (ESG_MAX_BODY_BYTES)."),
    503: _error("The chain node is unavailable."),
}
_PREPARE_REFUSED = _AUTH | {
    409: _error(
        "A call the chain would revert now, e.g. without the role (`call_reverts`, with the decoded "
        "custom error): nothing is sent."
    ),
    422: _error(
        "Not a staff function (`unsupported_action`, `field` contract or function), or an argument that "
        "does not fit its ABI type (`invalid_action`, `field` args.N)."
    ),
}
_SUBMIT_REFUSED = _AUTH | {
    409: _error("The deadline passed, or the chain would refuse the call now (`call_reverts`)."),
    422: _error(
        "The typed data is not exactly what this deployment prepares (`field` names what differs), the "
        "deadline passed, the call is not a staff function, or the signature is not `from`'s."
    ),
}


def _enum(values: set[str]) -> dict[str, Any]:
    return {"enum": sorted(values)}


class StaffPrepareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract: str = Field(
        description="The ledger contract, by its deployment name.",
        json_schema_extra=_enum({f.contract for f in forward.STAFF_FUNCTIONS}),
    )
    function: str = Field(
        description="A staff function of that contract, by name (the allow-list: docs/staff.md).",
        json_schema_extra=_enum({f.name for f in forward.STAFF_FUNCTIONS}),
    )
    args: list[Any] = Field(
        default_factory=list,
        description="The function's arguments in ABI order: integers as JSON numbers or decimal "
        "strings, addresses and bytes as 0x hex, structs as arrays or objects by field name.",
    )


class StaffCall(BaseModel):
    contract: str
    function: str = Field(description="The canonical signature the request calls.")
    role: str = Field(description="The role the contract checks for it.")
    to: str = Field(description="The contract's address (the request's `to`).")


class StaffPrepareResponse(BaseModel):
    typedData: dict[str, Any] = Field(
        description="A complete eth_signTypedData_v4 ForwardRequest for the StaffForwarder."
    )
    call: StaffCall = Field(description="What `typedData.message.data` calls: show it beside the prompt.")


@router.post(
    "/prepare",
    response_model=StaffPrepareResponse,
    responses=_PREPARE_REFUSED,
    response_model_exclude_none=True,
)
async def prepare_action(
    body: StaffPrepareRequest, services: ServicesDep, principal: StaffDep
) -> dict[str, Any]:
    """Builds the ForwardRequest the signed-in staff member signs for one staff function; refuses a
    call the chain would revert now, so nothing that fails is ever relayed."""
    typed = await run_in_threadpool(
        prepare, services, principal.address, contract=body.contract, function=body.function, args=body.args
    )
    spec = forward.staff_function(body.contract, body.function)
    assert spec is not None  # prepare refused anything else
    call = {
        "contract": spec.contract,
        "function": spec.signature,
        "role": spec.role,
        "to": typed["message"]["to"],
    }
    return {"typedData": typed, "call": call}


@router.post("", status_code=202, response_model=SubmitResponse, responses=_SUBMIT_REFUSED)
async def submit_action(body: SubmitRequest, services: ServicesDep, principal: StaffDep) -> dict[str, Any]:
    """Accepts the signed-in member's signed ForwardRequest into the durable outbox; the same one twice
    returns the same id. Its status: GET /v1/actions/{id}."""
    action = await run_in_threadpool(verify, services, body.typedData, body.signature)
    if action.resident != principal.address:
        raise StaffForbiddenError(
            f"this request is {action.resident}'s: a staff member submits only their own requests"
        )
    return await run_in_threadpool(accept, services, action)
