"""Partners and causes for partner managers: register with an expiry and a profile, renew, remove
(CommunityRewards.setPartner / removePartner / setCause; profiles in ledger/directory.py)."""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from indexer.models import CAUSE, PARTNER
from ledger.directory import ProfileKind, put_profile

from ..deps import ServicesDep, SessionDep
from ._staff import (
    ACTS,
    ADDRESS,
    NOT_FOUND,
    UINT32_MAX,
    UINT64_MAX,
    PartnerManager,
    StaffActionResponse,
    bytes32,
    call,
)

router = APIRouter(prefix="/v1/staff", tags=["staff: partners and causes"])

PartnerPath = Annotated[str, Path(pattern=ADDRESS, description="The partner's address.")]
CausePath = Annotated[int, Path(ge=0, le=UINT32_MAX, description="The cause id (uint32).")]
_NAME = {"min_length": 1, "max_length": 200, "pattern": r"^[^\x00-\x1f\x7f]+$"}


class PartnerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(**_NAME)  # type: ignore[call-overload]
    description: str = Field(default="", max_length=4000)
    expiresAt: int = Field(ge=1, le=UINT64_MAX, description="Unix seconds, in the future.")
    burnOnRedeem: bool = Field(
        default=False, description="Burn redeemed points instead of transferring them."
    )


class RenewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expiresAt: int = Field(ge=1, le=UINT64_MAX, description="The new expiry, unix seconds, in the future.")


class CauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(**_NAME)  # type: ignore[call-overload]
    description: str = Field(default="", max_length=4000)
    wallet: str = Field(pattern=ADDRESS, description="Where donations go.")
    active: bool = True


class CauseActive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class DirectoryActionResponse(StaffActionResponse):
    metadataHash: str = Field(description="keccak256 of the profile, as sent on chain.")


@router.put("/partners/{address}", response_model=DirectoryActionResponse, responses=ACTS)
async def set_partner(
    address: PartnerPath,
    body: PartnerBody,
    principal: PartnerManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Registers or updates a partner with an expiry and its profile (setPartner)."""
    partner = to_checksum_address(address)
    row = put_profile(
        session=session,
        chain_id=services.deployment.chain_id,
        kind=ProfileKind.PARTNER,
        key=partner,
        name=body.name,
        description=body.description,
    )
    digest = row.metadata_hash
    session.commit()
    args = [partner, body.burnOnRedeem, body.expiresAt, bytes32(digest)]
    return await call(services, principal, "CommunityRewards", "setPartner", args) | {"metadataHash": digest}


@router.post("/partners/{address}/renew", response_model=DirectoryActionResponse, responses=ACTS | NOT_FOUND)
async def renew_partner(
    address: PartnerPath,
    body: RenewBody,
    principal: PartnerManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Moves a registered partner's expiry, keeping its profile and redemption mode (setPartner)."""
    partner = to_checksum_address(address)
    p = PARTNER.c
    row = session.execute(
        select(PARTNER).where(p.chain_id == services.deployment.chain_id, p.partner == partner, p.registered)
    ).first()
    if row is None:
        raise HTTPException(404, f"{partner} is not a registered partner in the mirror")
    session.rollback()
    args = [partner, row.burn_on_redeem, body.expiresAt, bytes32(row.metadata_hash)]
    return await call(services, principal, "CommunityRewards", "setPartner", args) | {
        "metadataHash": row.metadata_hash
    }


@router.delete("/partners/{address}", response_model=StaffActionResponse, responses=ACTS)
async def remove_partner(
    address: PartnerPath, principal: PartnerManager, services: ServicesDep
) -> dict[str, Any]:
    """Removes a partner: it no longer accepts points (removePartner)."""
    return await call(
        services, principal, "CommunityRewards", "removePartner", [to_checksum_address(address)]
    )


@router.put("/causes/{cause_id}", response_model=DirectoryActionResponse, responses=ACTS)
async def set_cause(
    cause_id: CausePath,
    body: CauseBody,
    principal: PartnerManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Registers or updates a cause with its wallet and profile (setCause)."""
    row = put_profile(
        session=session,
        chain_id=services.deployment.chain_id,
        kind=ProfileKind.CAUSE,
        key=str(cause_id),
        name=body.name,
        description=body.description,
    )
    digest = row.metadata_hash
    session.commit()
    args = [cause_id, to_checksum_address(body.wallet), body.active, bytes32(digest)]
    return await call(services, principal, "CommunityRewards", "setCause", args) | {"metadataHash": digest}


@router.post("/causes/{cause_id}/active", response_model=DirectoryActionResponse, responses=ACTS | NOT_FOUND)
async def set_cause_active(
    cause_id: CausePath,
    body: CauseActive,
    principal: PartnerManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Opens or closes a registered cause to donations, keeping its wallet and profile (setCause)."""
    c = CAUSE.c
    row = session.execute(
        select(CAUSE).where(c.chain_id == services.deployment.chain_id, c.cause_id == cause_id)
    ).first()
    if row is None:
        raise HTTPException(404, f"no cause {cause_id} in the mirror")
    session.rollback()
    args = [cause_id, row.wallet, body.active, bytes32(row.metadata_hash)]
    return await call(services, principal, "CommunityRewards", "setCause", args) | {
        "metadataHash": row.metadata_hash
    }
