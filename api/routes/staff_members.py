"""Staff management for admins: invite a member, grant and revoke their roles on chain (grantRole /
revokeRole, signed by the admin as themselves), set their area scope, deactivate them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from indexer import staff_queries
from ledger.staff.errors import StaffError
from ledger.staff.keys import staff_keys
from ledger.staff.members import deactivate_member, get_member, invite_member, list_members, set_areas
from ledger.staff.models import StaffMember
from ledger.staff.roles import ROLE_GRANTS, ROLE_NAMES

from ..deps import ReadSessionDep, ServicesDep, SessionDep
from ._mirror import INT64_MAX, Limit, Offset
from ._staff import ACTS, ADDRESS, AUTH, NOT_FOUND, UINT32_MAX, Admin, StaffActionResponse, bytes32, call

router = APIRouter(prefix="/v1/staff/members", tags=["staff: members"])

MemberPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The staff member's id.")]
RoleName = Literal[
    "verifier",
    "reviewer",
    "moderator",
    "campaign_manager",
    "partner_manager",
    "policy",
    "enroller",
    "auditor",
    "admin",
]
assert set(RoleName.__args__) == set(ROLE_NAMES)  # type: ignore[attr-defined]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The address or login is already a member."}
}


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    address: str | None = Field(
        default=None, pattern=ADDRESS, description="Their wallet; omit for a custodial key."
    )
    login: str | None = Field(default=None, description="A custodial member's login name (required then).")
    areas: list[Annotated[int, Field(ge=0, le=UINT32_MAX)]] | None = Field(
        default=None, max_length=256, description="Area codes their reviews and verifications are limited to."
    )


class AreasBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    areas: list[Annotated[int, Field(ge=0, le=UINT32_MAX)]] | None = Field(
        max_length=256, description="null: every area."
    )


class RoleHolding(BaseModel):
    contract: str
    contractName: str | None
    role: str
    roleId: str
    account: str
    grantedBy: str
    updatedBlock: int


class MemberPublic(BaseModel):
    id: int
    name: str
    address: str
    login: str | None
    kind: str = Field(description="wallet or custodial.")
    status: str = Field(description="invited, active or deactivated.")
    areas: list[int] | None = Field(description="null: every area.")
    roles: list[str] = Field(description="Product roles held on chain now (from the mirror).")
    holdings: list[RoleHolding] = Field(description="Each (contract, role) grant behind them.")
    createdAt: float
    createdBy: str


class MemberPage(BaseModel):
    items: list[MemberPublic]
    total: int


class Invited(MemberPublic):
    password: str | None = Field(description="A custodial member's initial password, shown once.")
    totpUri: str | None = Field(description="otpauth:// URI for their authenticator app, shown once.")


class RoleCalls(BaseModel):
    role: str
    calls: list[StaffActionResponse] = Field(description="One grantRole / revokeRole per contract.")


@contextmanager
def _staff_errors() -> Iterator[None]:
    try:
        yield
    except StaffError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _public(member: StaffMember, services: ServicesDep, session: Any) -> dict[str, Any]:
    assert member.id is not None
    holdings = staff_queries.role_members(
        session.connection(),
        chain_id=services.deployment.chain_id,
        contract_names={c.address: n for n, c in services.deployment.contracts.items()},
        account=member.address,
    )
    codes = member.area_codes()
    return {
        "id": member.id,
        "name": member.name,
        "address": member.address,
        "login": member.login,
        "kind": str(member.kind),
        "status": str(member.status),
        "areas": None if codes is None else sorted(codes),
        "roles": sorted({h["role"] for h in holdings}),
        "holdings": holdings,
        "createdAt": member.created_at,
        "createdBy": member.created_by,
    }


@router.get("", response_model=MemberPage, responses=AUTH)
def members(
    _principal: Admin,
    services: ServicesDep,
    session: ReadSessionDep,
    status: Annotated[
        Literal["invited", "active", "deactivated"] | None, Query(description="Only these.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Staff members with the roles their addresses hold on chain now."""
    rows, total = list_members(session=session, status=status, limit=limit, offset=offset)
    return {"items": [_public(m, services, session) for m in rows], "total": total}


@router.post("", status_code=201, response_model=Invited, responses=AUTH | CONFLICT)
def invite(body: InviteBody, principal: Admin, services: ServicesDep, session: SessionDep) -> dict[str, Any]:
    """Invites a member with their own wallet, or with a custodial key (password + TOTP, shown once)."""
    with _staff_errors():
        invitation = invite_member(
            session=session,
            name=body.name,
            created_by=principal.address,
            now=time.time(),
            address=body.address,
            login=body.login,
            areas=body.areas,
            keys=None if body.address else staff_keys(services.settings),
        )
    session.commit()
    return _public(invitation.member, services, session) | {
        "password": invitation.password,
        "totpUri": invitation.totp_uri,
    }


@router.get("/{member_id}", response_model=MemberPublic, responses=AUTH | NOT_FOUND)
def member(
    member_id: MemberPath, _principal: Admin, services: ServicesDep, session: ReadSessionDep
) -> dict[str, Any]:
    """One staff member with their on-chain roles."""
    with _staff_errors():
        return _public(get_member(session=session, member_id=member_id), services, session)


@router.put("/{member_id}/areas", response_model=MemberPublic, responses=AUTH | NOT_FOUND)
def areas(
    member_id: MemberPath, body: AreasBody, principal: Admin, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Limits the member's reviews and verifications to these areas (null: every area); logged."""
    with _staff_errors():
        row = set_areas(
            session=session, member_id=member_id, areas=body.areas, by=principal.address, now=time.time()
        )
    session.commit()
    return _public(row, services, session)


@router.post("/{member_id}/deactivate", response_model=MemberPublic, responses=AUTH | NOT_FOUND)
def deactivate(
    member_id: MemberPath, principal: Admin, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Stops the member signing in and ends their sessions; revoke their roles on chain as well."""
    with _staff_errors():
        row, _revoked = deactivate_member(
            session=session, member_id=member_id, by=principal.address, now=time.time()
        )
    session.commit()
    return _public(row, services, session)


async def _role_calls(
    services: ServicesDep, principal: Any, session: Any, member_id: int, role: str, function: str
) -> dict[str, Any]:
    with _staff_errors():
        address = get_member(session=session, member_id=member_id).address
    session.rollback()
    calls = []
    for contract, role_id in ROLE_GRANTS[role]:
        if contract in services.deployment.contracts:
            calls.append(await call(services, principal, contract, function, [bytes32(role_id), address]))
    return {"role": role, "calls": calls}


@router.put("/{member_id}/roles/{role}", response_model=RoleCalls, responses=ACTS | NOT_FOUND)
async def grant(
    member_id: MemberPath,
    role: Annotated[RoleName, Path()],
    principal: Admin,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Grants a product role on chain: grantRole on each contract it spans, signed by the admin."""
    return await _role_calls(services, principal, session, member_id, role, "grantRole")


@router.delete("/{member_id}/roles/{role}", response_model=RoleCalls, responses=ACTS | NOT_FOUND)
async def revoke(
    member_id: MemberPath,
    role: Annotated[RoleName, Path()],
    principal: Admin,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Revokes a product role on chain: revokeRole on each contract it spans, signed by the admin."""
    return await _role_calls(services, principal, session, member_id, role, "revokeRole")
