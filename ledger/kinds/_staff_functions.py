"""The staff functions a `ForwardRequest` may call: the allow-list, with the role each one checks.

Every `onlyRole` function of the ledger contracts that a person holds the role for, plus
`grantRole` / `revokeRole` on each of them (checked against the role's admin, `DEFAULT_ADMIN_ROLE`).
Left out on purpose (`EXCLUDED`): the `RELAYER_ROLE` batch functions (the relayer's own path, which
carries residents' signatures and its own triage), the token's `MINTER_ROLE` / `BURNER_ROLE` /
`MOVER_ROLE` functions (held by the ledger contracts, never by a person: relaying them for a staff
key that somehow holds one would make a misconfiguration gasless), and `renounceRole` (an admin
revokes instead). `tests/relayer/test_staff_relay.py` checks this table against the contracts'
sources and ABIs, so a new `onlyRole` function is either listed here or excluded with a reason.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from ..errors import ContractRevertError

ROLE_ADMIN = "DEFAULT_ADMIN_ROLE"


@dataclass(frozen=True)
class StaffFunction:
    contract: str  # the deployment's contract name
    signature: str  # canonical: `name(type,…)`, tuples as `(…)`
    role: str  # the role `onlyRole` checks (for grantRole / revokeRole: the role's admin)

    @property
    def name(self) -> str:
        return self.signature[: self.signature.index("(")]

    @functools.cached_property
    def selector(self) -> bytes:
        return keccak(self.signature.encode())[:4]


_ROLE_ADMINISTRATION = ("grantRole(bytes32,address)", "revokeRole(bytes32,address)")
_TABLE: dict[str, dict[str, str]] = {
    "ParticipationToken": {"pause()": "PAUSER_ROLE", "unpause()": "PAUSER_ROLE"},
    "PloggingRegistry": {
        "verify(bytes32)": "VERIFIER_ROLE",
        "reject(bytes32,uint16)": "VERIFIER_ROLE",
        "revoke(bytes32,uint16)": "VERIFIER_ROLE",
        "revokeCommitted((uint256,bytes32,address,uint256,bytes32[]),uint16)": "VERIFIER_ROLE",
        "settleClawback(address)": "VERIFIER_ROLE",
        "setBounds((uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint8))": "POLICY_ROLE",
        "setReward((uint64,uint64))": "POLICY_ROLE",
        "setThresholds((uint32,uint32,uint64))": "POLICY_ROLE",
    },
    "FeedbackBox": {
        "startReview(uint256)": "REVIEWER_ROLE",
        "answer(uint256,bool,bytes32)": "REVIEWER_ROLE",
        "close(uint256)": "REVIEWER_ROLE",
        "moderate(uint256,bool,uint16)": "MODERATOR_ROLE",
        "setCategory(uint16,bool,string)": "POLICY_ROLE",
        "setSettings((uint32,uint32,uint8,uint16))": "POLICY_ROLE",
        "setAcceptedReward(uint256)": "POLICY_ROLE",
    },
    "CommunityRewards": {
        "setRewardPolicy((uint64,uint64,uint256))": "POLICY_ROLE",
        "setPartner(address,bool,uint64,bytes32)": "PARTNER_MANAGER_ROLE",
        "removePartner(address)": "PARTNER_MANAGER_ROLE",
        "setCause(uint32,address,bool,bytes32)": "PARTNER_MANAGER_ROLE",
        "createCampaign(uint64,uint64,uint8,uint32,uint128,bytes32)": "CAMPAIGN_ROLE",
        "reportCampaignProgress(uint256,uint128)": "CAMPAIGN_ROLE",
        "finalizeCampaign(uint256)": "CAMPAIGN_ROLE",
        "cancelCampaign(uint256)": "CAMPAIGN_ROLE",
        "setCampaignBonus(uint256,bytes32,uint128)": "CAMPAIGN_ROLE",
    },
    "ActionBatcher": {},
    "EnrolmentRegistry": {
        "enrol(address,bytes32,bytes32)": "ENROLLER_ROLE",
        "enrolBatch((address,bytes32,bytes32)[])": "ENROLLER_ROLE",
        "withdraw(address,uint16)": "ENROLLER_ROLE",
    },
}

STAFF_FUNCTIONS: tuple[StaffFunction, ...] = tuple(
    StaffFunction(contract, signature, role)
    for contract, functions in _TABLE.items()
    for signature, role in (*functions.items(), *((s, ROLE_ADMIN) for s in _ROLE_ADMINISTRATION))
)

# onlyRole functions that are not staff functions, and why (checked against the sources by a test)
EXCLUDED: dict[str, str] = {
    "recordBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "submitBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "supportBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "redeemBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "donateBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "claimBatch": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "execute": "the relayer's own batch path (RELAYER_ROLE), residents' signatures",
    "mint": "MINTER_ROLE is held by the ledger contracts, never by a person",
    "mintBatch": "MINTER_ROLE is held by the ledger contracts, never by a person",
    "burnFrom": "BURNER_ROLE is held by the ledger contracts, never by a person",
    "move": "MOVER_ROLE is held by the ledger contracts, never by a person",
}

_BY_NAME: dict[tuple[str, str], StaffFunction] = {(f.contract, f.name): f for f in STAFF_FUNCTIONS}


def staff_function(contract: str, name: str) -> StaffFunction | None:
    """The allow-listed function `name` of `contract` (a deployment name), or None."""
    return _BY_NAME.get((contract, name))


def allowed_calls(contracts: Mapping[str, str]) -> dict[tuple[str, bytes], StaffFunction]:
    """(lower-case target address, selector) → the staff function, for the deployed contracts."""
    return {
        (contracts[f.contract].lower(), f.selector): f for f in STAFF_FUNCTIONS if f.contract in contracts
    }


_ROLE_NAMES = {keccak(r.encode()): r for r in {f.role for f in STAFF_FUNCTIONS} - {ROLE_ADMIN}} | {
    keccak(r.encode()): r
    for r in ("RELAYER_ROLE", "MINTER_ROLE", "BURNER_ROLE", "MOVER_ROLE", "AUDITOR_ROLE", "ENROLLER_ROLE")
}
_ROLE_NAMES[bytes(32)] = ROLE_ADMIN


def explain(error: ContractRevertError) -> str:
    """A decoded revert as staff read it: a missing role is named (`… lacks POLICY_ROLE`)."""
    if error.name != "AccessControlUnauthorizedAccount":
        return str(error)
    try:
        role = bytes.fromhex(str(error.args_.get("neededRole", "0x"))[2:])
        account = to_checksum_address(str(error.args_.get("account")))
    except ValueError:
        return str(error)
    return f"{error}: {account} lacks {_ROLE_NAMES.get(role, '0x' + role.hex())}"
