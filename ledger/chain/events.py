"""Every event the ledger contracts and the StaffForwarder emit, and the mirror table of each.

One `EventSpec` per event: its Solidity signature (which gives topic0), and its fields in ABI order,
each with the column it becomes. Struct parameters are static tuples, so they are flattened into
consecutive fields here. `tests/unit/test_events_spec.py` checks this list against the compiled ABIs,
so an event added to a contract without a table here fails the tests.

Field types: `address` (checksummed text), `bytes32` (0x hex), `bool`, `bytes` / `string` (dynamic),
`uintN`: a SQL BIGINT. Amounts (points) are uintN: whole points never come near 2**63, and a value
above 2**63-1 is refused with DecodeError (the indexer halts) rather than truncated.
`uintN+`: the full range, lossless (NUMERIC(78,0) on PostgreSQL, decimal text on SQLite), for values
that may legitimately be huge: type(uint64).max as "no limit", resident-chosen nonces, admin goals.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

__all__ = ["EVENTS", "EVENTS_BY_TABLE", "EVENTS_BY_TOPIC", "EventSpec", "Field", "topic"]


def topic(signature: str) -> str:
    return "0x" + keccak(signature.encode()).hex()


@dataclass(frozen=True)
class Field:
    column: str
    type: str
    indexed: bool = False
    wide: bool = False  # `uintN+`: stored lossless over the full range


@dataclass(frozen=True)
class EventSpec:
    name: str
    signature: str
    table: str
    fields: tuple[Field, ...]
    # columns with a fixed value for this event, when two events share a table (Paused / Unpaused)
    constants: tuple[tuple[str, Any], ...] = ()
    # the emitting contract's address goes in this column, when several contracts emit the event
    contract_column: str = ""
    topic0: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topic0", topic(self.signature))

    @property
    def columns(self) -> list[str]:
        out = [self.contract_column] if self.contract_column else []
        return out + [f.column for f in self.fields] + [c for c, _ in self.constants]

    def fingerprint(self) -> str:
        """Changes whenever what this event's rows contain changes: the table is re-decoded then."""
        text = repr((self.signature, self.table, self.fields, self.constants, self.contract_column))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _f(spec: str) -> tuple[Field, ...]:
    """`"digest bytes32!, resident address!, nonce uint64+"` → fields; `!` marks an indexed one."""
    out = []
    for part in spec.split(","):
        column, kind = part.split()
        indexed = kind.endswith("!")
        kind = kind.rstrip("!")
        out.append(Field(column, kind.rstrip("+"), indexed, kind.endswith("+")))
    return tuple(out)


_BOUNDS = (
    "min_duration_seconds uint32, max_duration_seconds uint32, max_distance_meters uint32, "
    "max_speed_cm_per_second uint32, max_trash_grams uint32, max_age_seconds uint32, "
    "max_trash_grams_per_day uint32, max_sessions_per_day uint8"
)
_CAMPAIGN = (
    "starts_at uint64+, ends_at uint64+, metric uint8, area_code uint32, status uint8, goal uint128+, "
    "progress uint128+, metadata_hash bytes32, bonus_root bytes32, bonus_total uint128, bonus_claimed uint128"
)

EVENTS: tuple[EventSpec, ...] = (
    # ParticipationToken
    EventSpec(
        "Transfer",
        "Transfer(address,address,uint256)",
        "token_transfer",
        _f("from_address address!, to_address address!, value uint256"),
        contract_column="token",
    ),
    EventSpec(
        "Approval",
        "Approval(address,address,uint256)",
        "token_approval",
        _f("owner address!, spender address!, value uint256"),
        contract_column="token",
    ),
    EventSpec(
        "Paused", "Paused(address)", "pause_event", _f("account address"), (("paused", True),), "contract"
    ),
    EventSpec(
        "Unpaused",
        "Unpaused(address)",
        "pause_event",
        _f("account address"),
        (("paused", False),),
        "contract",
    ),
    # AccessControl, on every contract
    EventSpec(
        "RoleGranted",
        "RoleGranted(bytes32,address,address)",
        "role_event",
        _f("role bytes32!, account address!, sender address!"),
        (("granted", True),),
        "contract",
    ),
    EventSpec(
        "RoleRevoked",
        "RoleRevoked(bytes32,address,address)",
        "role_event",
        _f("role bytes32!, account address!, sender address!"),
        (("granted", False),),
        "contract",
    ),
    EventSpec(
        "RoleAdminChanged",
        "RoleAdminChanged(bytes32,bytes32,bytes32)",
        "role_admin_change",
        _f("role bytes32!, previous_admin_role bytes32!, new_admin_role bytes32!"),
        contract_column="contract",
    ),
    # SignedActions, on the three contracts that take signed actions
    EventSpec(
        "ActionFailed",
        "ActionFailed(bytes32,address,uint64,bytes)",
        "action_failure",
        _f("digest bytes32!, resident address!, nonce uint64+, reason bytes"),
        contract_column="contract",
    ),
    # PloggingRegistry
    EventSpec(
        "PloggingRecorded",
        "PloggingRecorded(bytes32,address,uint64,uint32,uint32,uint32,uint32,uint64,bytes32,uint256,uint8)",
        "plogging_session",
        _f(
            "digest bytes32!, resident address!, nonce uint64+, distance_meters uint32, "
            "duration_seconds uint32, trash_grams uint32, area_code uint32, started_at uint64, "
            "evidence_hash bytes32, reward uint256, status uint8"
        ),
    ),
    EventSpec(
        "PloggingBatchCommitted",
        "PloggingBatchCommitted(uint256,bytes32,uint256)",
        "plogging_batch",
        _f("batch_id uint256!, root bytes32, leaf_count uint256"),
    ),
    EventSpec(
        "PloggingVerified",
        "PloggingVerified(bytes32,address,address,uint256,uint256)",
        "plogging_verification",
        _f("digest bytes32!, resident address!, verifier address!, reward uint256, minted uint256"),
    ),
    EventSpec(
        "PloggingRejected",
        "PloggingRejected(bytes32,address,address,uint16)",
        "plogging_rejection",
        _f("digest bytes32!, resident address!, verifier address!, reason_code uint16"),
    ),
    EventSpec(
        "PloggingRevoked",
        "PloggingRevoked(bytes32,address,address,uint16,uint256,uint256)",
        "plogging_revocation",
        _f(
            "digest bytes32!, resident address!, verifier address!, reason_code uint16, "
            "reward uint256, burned uint256"
        ),
    ),
    EventSpec(
        "PloggingClawbackSettled",
        "PloggingClawbackSettled(address,address,uint256,uint256)",
        "plogging_clawback",
        _f("resident address!, by_address address!, burned uint256, remaining uint256"),
    ),
    EventSpec(
        "PloggingThresholdsUpdated",
        "PloggingThresholdsUpdated(address,(uint32,uint32,uint64))",
        "plogging_thresholds_update",
        _f("by_address address!, max_distance_meters uint32, max_trash_grams uint32, max_reward uint64+"),
    ),
    EventSpec(
        "PloggingBoundsUpdated",
        "PloggingBoundsUpdated(address,(uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint8))",
        "plogging_bounds_update",
        _f("by_address address!, " + _BOUNDS),
    ),
    EventSpec(
        "PloggingRewardUpdated",
        "PloggingRewardUpdated(address,uint64,uint64)",
        "plogging_reward_update",
        _f("by_address address!, per_km uint64, per_100_grams uint64"),
    ),
    # FeedbackBox
    EventSpec(
        "FeedbackSubmitted",
        "FeedbackSubmitted(uint256,bytes32,address,uint16,uint32,bytes32,uint64)",
        "feedback_submission",
        _f(
            "item_id uint256!, digest bytes32!, resident address!, category uint16, area_code uint32, "
            "content_hash bytes32, nonce uint64+"
        ),
    ),
    EventSpec(
        "FeedbackSupported",
        "FeedbackSupported(uint256,bytes32,address,uint32,uint64)",
        "feedback_support",
        _f("item_id uint256!, digest bytes32!, resident address!, support_count uint32, nonce uint64+"),
    ),
    EventSpec(
        "FeedbackAnswerRequired",
        "FeedbackAnswerRequired(uint256,uint32,uint64)",
        "feedback_answer_required",
        _f("item_id uint256!, support_count uint32, due_at uint64"),
    ),
    EventSpec(
        "FeedbackReviewStarted",
        "FeedbackReviewStarted(uint256,address)",
        "feedback_review_start",
        _f("item_id uint256!, reviewer address!"),
    ),
    EventSpec(
        "FeedbackAnswered",
        "FeedbackAnswered(uint256,address,bool,bytes32,uint256)",
        "feedback_answer",
        _f("item_id uint256!, reviewer address!, accepted bool, answer_hash bytes32, reward uint256"),
    ),
    EventSpec(
        "FeedbackClosed",
        "FeedbackClosed(uint256,address)",
        "feedback_closure",
        _f("item_id uint256!, reviewer address!"),
    ),
    EventSpec(
        "FeedbackModerated",
        "FeedbackModerated(uint256,address,bool,uint16)",
        "feedback_moderation",
        _f("item_id uint256!, moderator address!, hidden bool, reason_code uint16"),
    ),
    EventSpec(
        "FeedbackCategorySet",
        "FeedbackCategorySet(uint16,address,bool,string)",
        "feedback_category_set",
        _f("category uint16!, by_address address!, enabled bool, name string"),
    ),
    EventSpec(
        "FeedbackSettingsUpdated",
        "FeedbackSettingsUpdated(address,(uint32,uint32,uint8,uint16))",
        "feedback_settings_update",
        _f(
            "by_address address!, support_threshold uint32, answer_window_seconds uint32, "
            "max_submissions_per_day uint8, max_supports_per_day uint16"
        ),
    ),
    EventSpec(
        "FeedbackRewardUpdated",
        "FeedbackRewardUpdated(address,uint256)",
        "feedback_reward_update",
        _f("by_address address!, reward uint256"),
    ),
    # CommunityRewards
    EventSpec(
        "RewardPolicyUpdated",
        "RewardPolicyUpdated(address,uint64,uint64,uint256)",
        "reward_policy_update",
        _f("by_address address!, per_km uint64, per_100_grams uint64, per_accepted_feedback uint256"),
    ),
    EventSpec(
        "CampaignCreated",
        "CampaignCreated(uint256,address,(uint64,uint64,uint8,uint32,uint8,uint128,uint128,bytes32,bytes32,"
        "uint128,uint128))",
        "campaign_creation",
        _f("campaign_id uint256!, by_address address!, " + _CAMPAIGN),
    ),
    EventSpec(
        "CampaignProgressReported",
        "CampaignProgressReported(uint256,address,uint128)",
        "campaign_progress_report",
        _f("campaign_id uint256!, by_address address!, progress uint128+"),
    ),
    EventSpec(
        "CampaignFinalized",
        "CampaignFinalized(uint256,address,uint8,uint128)",
        "campaign_finalization",
        _f("campaign_id uint256!, by_address address!, status uint8, progress uint128+"),
    ),
    EventSpec(
        "CampaignBonusSet",
        "CampaignBonusSet(uint256,address,bytes32,uint128)",
        "campaign_bonus_set",
        _f("campaign_id uint256!, by_address address!, root bytes32, total uint128"),
    ),
    EventSpec(
        "BonusClaimed",
        "BonusClaimed(uint256,bytes32,address,uint256)",
        "bonus_claim",
        _f("campaign_id uint256!, digest bytes32!, resident address!, amount uint256"),
    ),
    EventSpec(
        "PartnerSet",
        "PartnerSet(address,address,bool,uint64,bytes32)",
        "partner_set",
        _f(
            "partner address!, by_address address!, burn_on_redeem bool, expires_at uint64+, "
            "metadata_hash bytes32"
        ),
    ),
    EventSpec(
        "PartnerRemoved",
        "PartnerRemoved(address,address)",
        "partner_removal",
        _f("partner address!, by_address address!"),
    ),
    EventSpec(
        "CauseSet",
        "CauseSet(uint32,address,address,bool,bytes32)",
        "cause_set",
        _f("cause_id uint32!, by_address address!, wallet address, active bool, metadata_hash bytes32"),
    ),
    EventSpec(
        "Redeemed",
        "Redeemed(bytes32,address,address,uint256,bytes32,bool,uint64)",
        "redemption",
        _f(
            "digest bytes32!, resident address!, partner address!, amount uint256, offer_hash bytes32, "
            "burned bool, nonce uint64+"
        ),
    ),
    EventSpec(
        "Donated",
        "Donated(bytes32,address,uint32,address,uint256,uint64)",
        "donation",
        _f(
            "digest bytes32!, resident address!, cause_id uint32!, wallet address, amount uint256, "
            "nonce uint64+"
        ),
    ),
    # StaffForwarder: one per staff request it ran (success false: the call reverted, the nonce is
    # used); the called contract's own event names the staff member as its actor
    EventSpec(
        "ExecutedForwardRequest",
        "ExecutedForwardRequest(address,uint256,bool)",
        "staff_forward_request",
        _f("signer address!, nonce uint256+, success bool"),
    ),
    # EnrolmentRegistry: who counts as a resident, and the accountable party that enrolled them
    EventSpec(
        "ResidentEnrolled",
        "ResidentEnrolled(address,address,bytes32,bytes32)",
        "resident_enrolment",
        _f("resident address!, enroller address!, party bytes32!, evidence_hash bytes32"),
    ),
    EventSpec(
        "ResidentWithdrawn",
        "ResidentWithdrawn(address,address,bytes32,uint16)",
        "resident_withdrawal",
        _f("resident address!, by_address address!, party bytes32!, reason_code uint16"),
    ),
    # ActionBatcher
    EventSpec(
        "GroupFailed",
        "GroupFailed(uint256,uint8,uint256,bytes)",
        "group_failure",
        _f("group_index uint256!, kind uint8!, entries uint256, reason bytes"),
    ),
)

EVENTS_BY_TOPIC: dict[str, EventSpec] = {e.topic0: e for e in EVENTS}
EVENTS_BY_TABLE: dict[str, list[EventSpec]] = {}
for _event in EVENTS:
    EVENTS_BY_TABLE.setdefault(_event.table, []).append(_event)
