"""The product's staff role names and the on-chain roles they stand for.

A member holds a role name when their own address holds any of its (contract, role) pairs in the
mirror of `RoleGranted` / `RoleRevoked` (indexer.staff_roles). Role hashes are keccak256 of the
constant's name, as in the contracts; `DEFAULT_ADMIN_ROLE` is bytes32(0).
"""

from __future__ import annotations

from eth_hash.auto import keccak

__all__ = ["DEFAULT_ADMIN_ROLE", "ROLE_GRANTS", "ROLE_NAMES", "STAFF_CONTRACTS", "role_hash"]

ROLE_NAMES = (
    "verifier",
    "reviewer",
    "moderator",
    "campaign_manager",
    "partner_manager",
    "policy",
    "enroller",
    "auditor",
    "admin",
)

DEFAULT_ADMIN_ROLE = "0x" + "00" * 32

# Every contract built on StaffAccess (AccessControl + ERC2771Context); the forwarder has no roles.
STAFF_CONTRACTS = (
    "ParticipationToken",
    "PloggingRegistry",
    "FeedbackBox",
    "CommunityRewards",
    "ActionBatcher",
    "EnrolmentRegistry",
)


def role_hash(constant: str) -> str:
    """`keccak256("VERIFIER_ROLE")` as 0x-hex, as the contracts' `bytes32 public constant`s."""
    return "0x" + keccak(constant.encode()).hex()


ROLE_GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "verifier": (("PloggingRegistry", role_hash("VERIFIER_ROLE")),),
    "reviewer": (("FeedbackBox", role_hash("REVIEWER_ROLE")),),
    "moderator": (("FeedbackBox", role_hash("MODERATOR_ROLE")),),
    "campaign_manager": (("CommunityRewards", role_hash("CAMPAIGN_ROLE")),),
    "partner_manager": (("CommunityRewards", role_hash("PARTNER_MANAGER_ROLE")),),
    # Each of the three checks its own POLICY_ROLE for its own setters (docs/contracts.md).
    "policy": tuple(
        (c, role_hash("POLICY_ROLE")) for c in ("PloggingRegistry", "FeedbackBox", "CommunityRewards")
    ),
    # Service-desk staff and each platform's enrolment key (docs/staff.md, "Enrolment").
    "enroller": (("EnrolmentRegistry", role_hash("ENROLLER_ROLE")),),
    # No function checks it: a grant on any StaffAccess contract records who audits.
    "auditor": tuple((c, role_hash("AUDITOR_ROLE")) for c in STAFF_CONTRACTS),
    "admin": tuple((c, DEFAULT_ADMIN_ROLE) for c in STAFF_CONTRACTS),
}
assert tuple(ROLE_GRANTS) == ROLE_NAMES
