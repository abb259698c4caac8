"""Campaign bonus trees as published (ledger/bonus.py): the tree in OpenZeppelin's `standard-v1`
format with the rule that computed it, and one resident's amount and proof."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from ledger import bonus
from ledger.merkle import StandardMerkleTree

from ..deps import ReadSessionDep, ServicesDep
from ._mirror import ADDRESS, INT64_MAX, NOT_FOUND

router = APIRouter(prefix="/v1/campaigns", tags=["directory"])

CampaignPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The campaign id.")]


class BonusTreePublic(BaseModel):
    campaignId: int
    root: str
    total: int
    leafCount: int
    rule: str = Field(description="How the amounts were computed; `esg-ledger rewards rebuild` applies it.")
    postedTxHash: str | None = Field(description="The transaction that set the root (CLI posts only).")
    tree: dict[str, Any] = Field(
        description="The tree as `@openzeppelin/merkle-tree` dumps it (standard-v1): StandardMerkleTree.load."
    )


class BonusLeafPublic(BaseModel):
    campaignId: int
    resident: str
    amount: int
    proof: list[str] = Field(description="Sibling hashes from the leaf to the root (MerkleProof.verify).")


@router.get("/{campaign_id}/bonus-tree", response_model=BonusTreePublic, responses=NOT_FOUND)
def bonus_tree(campaign_id: CampaignPath, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """The campaign's published bonus tree, its rule and every leaf."""
    chain_id = services.deployment.chain_id
    tree = bonus.get_tree(session=session, chain_id=chain_id, campaign_id=campaign_id)
    if tree is None:
        raise HTTPException(404, f"no bonus tree is published for campaign {campaign_id}")
    rows = bonus.leaves(session=session, chain_id=chain_id, campaign_id=campaign_id)
    dump = StandardMerkleTree.of([(r.resident, int(r.amount)) for r in rows], bonus.LEAF_ENCODING).dump()
    return {
        "campaignId": campaign_id,
        "root": tree.root,
        "total": int(tree.total),
        "leafCount": tree.leaf_count,
        "rule": tree.rule,
        "postedTxHash": tree.posted_tx_hash,
        "tree": dump,
    }


@router.get("/{campaign_id}/bonus-tree/{resident}", response_model=BonusLeafPublic, responses=NOT_FOUND)
def bonus_leaf(
    campaign_id: CampaignPath,
    resident: Annotated[str, Path(pattern=ADDRESS, description="The resident's address.")],
    services: ServicesDep,
    session: ReadSessionDep,
) -> dict[str, Any]:
    """One resident's amount and Merkle proof in the campaign's published tree."""
    found = bonus.leaf_for(
        session=session, chain_id=services.deployment.chain_id, campaign_id=campaign_id, resident=resident
    )
    if found is None:
        raise HTTPException(404, f"campaign {campaign_id}'s published tree gives {resident} nothing")
    amount, proof = found
    return {"campaignId": campaign_id, "resident": resident, "amount": int(amount), "proof": proof}
