"""What the staff routes share: the principal dependency per role, area scopes, the staff call wrapper,
the response of a staff action and the errors every staff route documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from pydantic import BaseModel, Field

from ledger.errors import LedgerError
from ledger.staff.errors import StaffForbiddenError

from ..schemas import ErrorResponse
from ..security import StaffPrincipal, require_staff
from ..services import Services
from ..staff_calls import act

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT128_MAX = 2**128 - 1
MAX_BULK = 100


Verifier = Annotated[StaffPrincipal, Depends(require_staff("verifier"))]
Reviewer = Annotated[StaffPrincipal, Depends(require_staff("reviewer"))]
Moderator = Annotated[StaffPrincipal, Depends(require_staff("moderator"))]
FeedbackStaff = Annotated[StaffPrincipal, Depends(require_staff("reviewer", "moderator"))]
CampaignManager = Annotated[StaffPrincipal, Depends(require_staff("campaign_manager"))]
PartnerManager = Annotated[StaffPrincipal, Depends(require_staff("partner_manager"))]
Policy = Annotated[StaffPrincipal, Depends(require_staff("policy"))]
Auditor = Annotated[StaffPrincipal, Depends(require_staff("auditor", "admin"))]
Admin = Annotated[StaffPrincipal, Depends(require_staff("admin"))]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH: dict[int | str, dict[str, Any]] = {
    401: _error("No staff session or bearer token, or an expired or revoked one."),
    403: _error(
        "The member holds none of the roles this needs, is deactivated, the record is outside their "
        "areas, or (cookie sessions) the CSRF header is missing."
    ),
    422: _error("A parameter or body field is malformed or out of range; `field` names it."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("No such record in the mirror.")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _error("The record is not in a state this applies to.")}
ACTS: dict[int | str, dict[str, Any]] = AUTH | {
    409: _error(
        "The chain would refuse the call now (`call_reverts`, with the contract's decoded custom "
        "error), or the record is not in a state this applies to; nothing is sent."
    ),
}


class StaffActionResponse(BaseModel):
    """A staff call: queued (a custodial member, signed by the city's key for them) or to be signed."""

    id: str | None = Field(default=None, description="The relayed action's id (GET /v1/actions/{id}).")
    status: str | None = Field(default=None, description="queued, for a custodial staff member.")
    typedData: dict[str, Any] | None = Field(
        default=None,
        description="For a wallet member: the ForwardRequest to sign and POST to /v1/staff/actions.",
    )


class BulkItemResult(BaseModel):
    key: str = Field(description="The digest or item id this result is for.")
    result: StaffActionResponse | None = None
    error: dict[str, Any] | None = Field(default=None, description="{code, message} when refused.")


class BulkResponse(BaseModel):
    results: list[BulkItemResult] = Field(description="One per request entry, in order.")


def in_scope(principal: StaffPrincipal, area_code: int) -> None:
    """403 when the member's area scope does not cover `area_code`."""
    if principal.areas is not None and area_code not in principal.areas:
        raise StaffForbiddenError(f"area {area_code} is outside {principal.name}'s areas")


def bytes32(value: str) -> str:
    """A 0x hex bytes32 as the staff call takes it (JSON: hex text)."""
    return "0x" + value.removeprefix("0x").lower()


async def call(
    services: Services, principal: StaffPrincipal, contract: str, function: str, args: list[Any]
) -> dict[str, Any]:
    """The member's own call of `contract.function(args)`, relayed (api/staff_calls.py)."""
    return await act(services, principal, contract=contract, function=function, args=args)


def refusal(exc: Exception) -> dict[str, Any]:
    """A bulk entry's refusal as {code, message}."""
    if isinstance(exc, HTTPException):
        return {
            "code": {403: "forbidden", 404: "not_found"}.get(exc.status_code, "refused"),
            "message": exc.detail,
        }
    code = getattr(exc, "code", None)
    name = exc.__class__.__name__ if isinstance(exc, LedgerError) else "error"
    return {"code": code if isinstance(code, str) else name, "message": str(exc)}
