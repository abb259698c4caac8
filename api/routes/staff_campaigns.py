"""Campaigns for campaign managers: create with a goal, report progress, finalize, cancel, and set the
bonus from the published tree (RewardCampaigns on CommunityRewards; ledger/bonus.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from indexer.queries import CAMPAIGN_METRICS
from ledger import bonus
from ledger.directory import ProfileKind, metadata_hash, put_profile
from ledger.errors import BonusError

from ..deps import ServicesDep, SessionDep
from ._mirror import INT64_MAX
from ._staff import (
    ACTS,
    AUTH,
    NOT_FOUND,
    UINT32_MAX,
    UINT64_MAX,
    UINT128_MAX,
    CampaignManager,
    StaffActionResponse,
    bytes32,
    call,
)

router = APIRouter(prefix="/v1/staff/campaigns", tags=["staff: campaigns"])

CampaignPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The campaign id.")]
Metric = Literal["trash_grams", "distance_meters", "sessions", "accepted_feedback"]
_METRIC_IDS = {v: k for k, v in CAMPAIGN_METRICS.items()}
_NAME = {"min_length": 1, "max_length": 200, "pattern": r"^[^\x00-\x1f\x7f]+$"}


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(**_NAME)  # type: ignore[call-overload]
    description: str = Field(default="", max_length=4000)


class CreateCampaign(Profile):
    startsAt: int = Field(ge=0, le=UINT64_MAX, description="Unix seconds.")
    endsAt: int = Field(ge=0, le=UINT64_MAX, description="Unix seconds, after startsAt.")
    metric: Metric
    areaCode: int = Field(default=0, ge=0, le=UINT32_MAX, description="0: the whole city.")
    goal: int = Field(ge=1, le=UINT128_MAX, description="The collective goal, in the metric's unit.")


class CreatedCampaign(StaffActionResponse):
    metadataHash: str = Field(
        description="keccak256 of the profile, sent on chain; PUT the profile once the id is known."
    )


class Progress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    progress: int = Field(ge=0, le=UINT128_MAX, description="The total so far, not an increment.")


class BonusTree(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocations: dict[str, int] = Field(min_length=1, description="{resident address: points}.")
    rule: str = Field(min_length=1, max_length=2000, description="How the amounts were computed (audited).")


class BonusTreePublic(BaseModel):
    campaignId: int
    root: str
    total: int
    leafCount: int
    rule: str


class ProfilePublic(BaseModel):
    key: str
    name: str
    description: str
    metadataHash: str


@router.post("", response_model=CreatedCampaign, responses=ACTS)
async def create(body: CreateCampaign, principal: CampaignManager, services: ServicesDep) -> dict[str, Any]:
    """Creates an active campaign with a collective goal (createCampaign)."""
    digest = metadata_hash(body.name, body.description)
    args = [body.startsAt, body.endsAt, _METRIC_IDS[body.metric], body.areaCode, body.goal, bytes32(digest)]
    return await call(services, principal, "CommunityRewards", "createCampaign", args) | {
        "metadataHash": digest
    }


@router.put("/{campaign_id}/profile", response_model=ProfilePublic, responses=AUTH)
def profile(
    campaign_id: CampaignPath,
    body: Profile,
    _principal: CampaignManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Stores the campaign's name and description off chain (verified against its metadataHash)."""
    row = put_profile(
        session=session,
        chain_id=services.deployment.chain_id,
        kind=ProfileKind.CAMPAIGN,
        key=str(campaign_id),
        name=body.name,
        description=body.description,
    )
    session.commit()
    return {
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "metadataHash": row.metadata_hash,
    }


@router.post("/{campaign_id}/progress", response_model=StaffActionResponse, responses=ACTS)
async def report_progress(
    campaign_id: CampaignPath, body: Progress, principal: CampaignManager, services: ServicesDep
) -> dict[str, Any]:
    """Reports the campaign's total progress (reportCampaignProgress)."""
    return await call(
        services, principal, "CommunityRewards", "reportCampaignProgress", [campaign_id, body.progress]
    )


@router.post("/{campaign_id}/finalize", response_model=StaffActionResponse, responses=ACTS)
async def finalize(
    campaign_id: CampaignPath, principal: CampaignManager, services: ServicesDep
) -> dict[str, Any]:
    """Ends a campaign after its window: achieved or missed (finalizeCampaign)."""
    return await call(services, principal, "CommunityRewards", "finalizeCampaign", [campaign_id])


@router.post("/{campaign_id}/cancel", response_model=StaffActionResponse, responses=ACTS)
async def cancel(
    campaign_id: CampaignPath, principal: CampaignManager, services: ServicesDep
) -> dict[str, Any]:
    """Cancels an active campaign (cancelCampaign)."""
    return await call(services, principal, "CommunityRewards", "cancelCampaign", [campaign_id])


@router.put(
    "/{campaign_id}/bonus-tree",
    response_model=BonusTreePublic,
    responses=AUTH | {409: {"description": "A different tree is published."}},
)
def publish_tree(
    campaign_id: CampaignPath,
    body: BonusTree,
    _principal: CampaignManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Publishes the campaign's bonus distribution as a Merkle tree (ledger/bonus.py)."""
    try:
        tree = bonus.publish_tree(
            session=session,
            chain_id=services.deployment.chain_id,
            campaign_id=campaign_id,
            allocations=body.allocations,
            rule=body.rule,
        )
    except BonusError as exc:  # a bad allocation (422) or a different tree already published (409)
        raise HTTPException(exc.status, str(exc)) from None
    session.commit()
    return {
        "campaignId": tree.campaign_id,
        "root": tree.root,
        "total": tree.total,
        "leafCount": tree.leaf_count,
        "rule": tree.rule,
    }


@router.post("/{campaign_id}/bonus", response_model=StaffActionResponse, responses=ACTS | NOT_FOUND)
async def set_bonus(
    campaign_id: CampaignPath, principal: CampaignManager, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Puts the published tree's root and total on chain for an achieved campaign (setCampaignBonus)."""
    tree = bonus.get_tree(session=session, chain_id=services.deployment.chain_id, campaign_id=campaign_id)
    if tree is None:
        raise HTTPException(404, f"no bonus tree is published for campaign {campaign_id}")
    session.rollback()
    return await call(
        services,
        principal,
        "CommunityRewards",
        "setCampaignBonus",
        [campaign_id, bytes32(tree.root), int(tree.total)],
    )
