"""Policy for policy holders: reward rates, plausibility bounds and daily caps, auto-accept thresholds,
feedback settings and categories (PloggingRegistry, FeedbackBox, CommunityRewards setters)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from indexer import staff_queries

from ..deps import ReadSessionDep, ServicesDep
from ._staff import ACTS, AUTH, UINT16_MAX, UINT32_MAX, UINT64_MAX, Policy, StaffActionResponse, call

router = APIRouter(prefix="/v1/staff/policy", tags=["staff: policy"])

UINT8_MAX = 2**8 - 1
UINT256_MAX = 2**256 - 1
MAX_RATE = 10**12  # PloggingRegistry.MAX_RATE


def _u(high: int, description: str = "") -> Any:
    return Field(ge=0, le=high, description=description)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RewardPolicy(_Body):
    perKm: int = _u(MAX_RATE, "Points per kilometre.")
    per100Grams: int = _u(MAX_RATE, "Points per 100 g of litter.")
    perAcceptedFeedback: int = _u(UINT256_MAX, "Points for an accepted feedback item.")


class Bounds(_Body):
    minDurationSeconds: int = _u(UINT32_MAX)
    maxDurationSeconds: int = _u(UINT32_MAX)
    maxDistanceMeters: int = _u(UINT32_MAX)
    maxSpeedCmPerSecond: int = _u(UINT32_MAX)
    maxTrashGrams: int = _u(UINT32_MAX, "Per session.")
    maxAgeSeconds: int = _u(UINT32_MAX, "How old a session's start may be when recorded.")
    maxTrashGramsPerDay: int = _u(UINT32_MAX, "Daily cap per resident.")
    maxSessionsPerDay: int = _u(UINT8_MAX, "Daily cap per resident.")


class Thresholds(_Body):
    maxDistanceMeters: int = _u(UINT32_MAX, "Auto-accept at or under this distance.")
    maxTrashGrams: int = _u(UINT32_MAX, "Auto-accept at or under this much litter.")
    maxReward: int = _u(UINT64_MAX, "Auto-accept at or under this reward.")


class FeedbackSettings(_Body):
    supportThreshold: int = _u(UINT32_MAX, "Supports that oblige an answer (0: never).")
    answerWindowSeconds: int = _u(UINT32_MAX, "Time to answer once obliged.")
    maxSubmissionsPerDay: int = _u(UINT8_MAX)
    maxSupportsPerDay: int = _u(UINT16_MAX)


class Category(_Body):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    enabled: bool = True


class PolicyInForce(BaseModel):
    reward: dict[str, Any] | None = Field(description="perKm, per100Grams (PloggingRewardUpdated).")
    bounds: dict[str, Any] | None
    thresholds: dict[str, Any] | None
    feedbackSettings: dict[str, Any] | None
    acceptedFeedbackReward: dict[str, Any] | None
    categories: list[dict[str, Any]]


@router.get("", response_model=PolicyInForce, responses=AUTH)
def policy(_principal: Policy, services: ServicesDep, session: ReadSessionDep) -> dict[str, Any]:
    """The policy in force, each part as its latest on-chain event set it, with who set it."""
    return staff_queries.policy(session.connection(), chain_id=services.deployment.chain_id)


@router.put("/reward", response_model=StaffActionResponse, responses=ACTS)
async def set_reward(body: RewardPolicy, principal: Policy, services: ServicesDep) -> dict[str, Any]:
    """Sets the reward policy everywhere it applies (CommunityRewards.setRewardPolicy)."""
    args = [[body.perKm, body.per100Grams, body.perAcceptedFeedback]]
    return await call(services, principal, "CommunityRewards", "setRewardPolicy", args)


@router.put("/bounds", response_model=StaffActionResponse, responses=ACTS)
async def set_bounds(body: Bounds, principal: Policy, services: ServicesDep) -> dict[str, Any]:
    """Replaces the plausibility bounds and daily caps (PloggingRegistry.setBounds)."""
    return await call(
        services, principal, "PloggingRegistry", "setBounds", [list(body.model_dump().values())]
    )


@router.put("/thresholds", response_model=StaffActionResponse, responses=ACTS)
async def set_thresholds(body: Thresholds, principal: Policy, services: ServicesDep) -> dict[str, Any]:
    """Replaces the auto-accept thresholds; sessions above any go to the queue (setThresholds)."""
    return await call(
        services, principal, "PloggingRegistry", "setThresholds", [list(body.model_dump().values())]
    )


@router.put("/feedback-settings", response_model=StaffActionResponse, responses=ACTS)
async def set_feedback_settings(
    body: FeedbackSettings, principal: Policy, services: ServicesDep
) -> dict[str, Any]:
    """Replaces the support threshold, answer window and daily caps (FeedbackBox.setSettings)."""
    return await call(services, principal, "FeedbackBox", "setSettings", [list(body.model_dump().values())])


@router.put("/categories/{category_id}", response_model=StaffActionResponse, responses=ACTS)
async def set_category(
    category_id: Annotated[int, Path(ge=0, le=UINT16_MAX, description="The category id (uint16).")],
    body: Category,
    principal: Policy,
    services: ServicesDep,
) -> dict[str, Any]:
    """Adds, renames, opens or closes a feedback category (FeedbackBox.setCategory)."""
    return await call(
        services, principal, "FeedbackBox", "setCategory", [category_id, body.enabled, body.name]
    )
