"""Which events are admin actions, and who did what to whom in each: the `admin_action` log.

Event name → (actor column, subject column or None). Every role change, policy change, verification
decision, review step, moderation, campaign step, partner or cause change and pause is one entry,
with the event's fields as JSON in `details`, so the ESG team reads one table for "who changed what".
"""

from __future__ import annotations

ADMIN_ACTIONS: dict[str, tuple[str, str | None]] = {
    "Paused": ("account", "contract"),
    "Unpaused": ("account", "contract"),
    "RoleGranted": ("sender", "account"),
    "RoleRevoked": ("sender", "account"),
    "RoleAdminChanged": ("contract", "role"),
    "PloggingVerified": ("verifier", "digest"),
    "PloggingRejected": ("verifier", "digest"),
    "PloggingRevoked": ("verifier", "digest"),
    "PloggingClawbackSettled": ("by_address", "resident"),
    "PloggingThresholdsUpdated": ("by_address", None),
    "PloggingBoundsUpdated": ("by_address", None),
    "PloggingRewardUpdated": ("by_address", None),
    "FeedbackReviewStarted": ("reviewer", "item_id"),
    "FeedbackAnswered": ("reviewer", "item_id"),
    "FeedbackClosed": ("reviewer", "item_id"),
    "FeedbackModerated": ("moderator", "item_id"),
    "FeedbackCategorySet": ("by_address", "category"),
    "FeedbackSettingsUpdated": ("by_address", None),
    "FeedbackRewardUpdated": ("by_address", None),
    "RewardPolicyUpdated": ("by_address", None),
    "CampaignCreated": ("by_address", "campaign_id"),
    "CampaignProgressReported": ("by_address", "campaign_id"),
    "CampaignFinalized": ("by_address", "campaign_id"),
    "CampaignBonusSet": ("by_address", "campaign_id"),
    "PartnerSet": ("by_address", "partner"),
    "PartnerRemoved": ("by_address", "partner"),
    "CauseSet": ("by_address", "cause_id"),
    "ResidentEnrolled": ("enroller", "resident"),
    "ResidentWithdrawn": ("by_address", "resident"),
}
# bump when the mapping above or the row shape changes: the admin log is then rebuilt from raw logs
ADMIN_VERSION = 2
