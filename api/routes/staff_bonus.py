"""A campaign manager's bonus distribution: computed from the mirror by a rule (ledger/bonus_rules.py),
published as the campaign's tree (ledger/bonus.py) and its root set on chain by the member's own call
(setCampaignBonus), in one request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from indexer.bonus_contributions import campaign_distribution, campaign_terms
from ledger import bonus
from ledger.bonus_rules import parse_rule
from ledger.errors import BonusRuleError

from ..deps import ServicesDep, SessionDep
from ._mirror import INT64_MAX
from ._staff import ACTS, UINT128_MAX, CampaignManager, StaffActionResponse, bytes32, call

router = APIRouter(prefix="/v1/staff/campaigns", tags=["staff: campaigns"])

CampaignPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The campaign id.")]


class Distribute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool: int = Field(ge=1, le=UINT128_MAX, description="The points to split: the bonus total set on chain.")
    rule: str = Field(
        default="pro-rata",
        max_length=40,
        pattern=r"^[a-z-]+(:[a-z_]+)?$",
        description="pro-rata or equal, optionally :metric (trash_grams, distance_meters, sessions, "
        "accepted_feedback); default: pro-rata over the campaign's own metric.",
    )


class Contributor(BaseModel):
    resident: str
    contribution: int = Field(description="Their contribution in the rule's metric at the snapshot.")
    amount: int = Field(description="Their bonus (0: their share rounded to nothing, not in the tree).")


class Distributed(StaffActionResponse):
    campaignId: int
    rule: str = Field(
        description="The rule as published with the tree: `esg-ledger rewards rebuild` applies it."
    )
    snapshotBlock: int = Field(description="The block of the campaign's finalization: nothing later counts.")
    root: str
    total: int
    contributors: list[Contributor]


@router.post(
    "/{campaign_id}/distribute",
    response_model=Distributed,
    responses=ACTS | {404: {"description": "The mirror has no such campaign."}},
)
async def distribute(
    campaign_id: CampaignPath,
    body: Distribute,
    principal: CampaignManager,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Computes the bonus by a rule, publishes the tree and sets its root on chain (setCampaignBonus)."""
    chain_id = services.deployment.chain_id
    rule, _ = parse_rule(body.rule)
    try:
        campaign_terms(session.connection(), chain_id=chain_id, campaign_id=campaign_id)
    except BonusRuleError as exc:
        raise HTTPException(404, str(exc)) from None
    d = campaign_distribution(
        session.connection(), chain_id=chain_id, campaign_id=campaign_id, rule=rule, pool=body.pool
    )
    tree = bonus.publish_tree(
        session=session,
        chain_id=chain_id,
        campaign_id=campaign_id,
        allocations=d.allocations,
        rule=d.rule_text,
    )
    session.commit()
    answer = await call(
        services,
        principal,
        "CommunityRewards",
        "setCampaignBonus",
        [campaign_id, bytes32(tree.root), int(tree.total)],
    )
    return answer | {
        "campaignId": campaign_id,
        "rule": tree.rule,
        "snapshotBlock": d.terms.snapshot()[0],
        "root": tree.root,
        "total": int(tree.total),
        "contributors": [
            {"resident": r, "contribution": d.weights[r], "amount": d.allocations.get(r, 0)}
            for r in sorted(d.weights)
        ],
    }
