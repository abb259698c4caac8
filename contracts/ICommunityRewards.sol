// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedActions} from "./ISignedActions.sol";

/// @title ICommunityRewards
/// @notice Types, events and errors of the community rewards contract: reward policy, campaigns and
/// their Merkle-distributed bonuses, partners and redemptions, causes and donations.
interface ICommunityRewards is ISignedActions {
    /// @notice What a campaign's collective goal counts.
    enum CampaignMetric {
        TrashGrams,
        DistanceMeters,
        Sessions,
        AcceptedFeedback
    }

    /// @notice Where a campaign stands.
    enum CampaignStatus {
        None,
        Active,
        Achieved,
        Missed,
        Cancelled
    }

    /// @notice The whole reward policy, as CommunityRewards pushes it to the registry and the feedback box.
    struct RewardPolicy {
        uint64 perKm;
        uint64 per100Grams;
        uint256 perAcceptedFeedback;
    }

    /// @notice A campaign: a collective goal in a time window, and the bonus for its participants.
    struct Campaign {
        uint64 startsAt;
        uint64 endsAt;
        CampaignMetric metric;
        uint32 areaCode;
        CampaignStatus status;
        uint128 goal;
        uint128 progress;
        bytes32 metadataHash;
        bytes32 bonusRoot;
        uint128 bonusTotal;
        uint128 bonusClaimed;
    }

    /// @notice A partner that accepts points. `burnOnRedeem`: points are burned, else transferred to it.
    struct Partner {
        bool registered;
        bool burnOnRedeem;
        uint64 expiresAt;
        bytes32 metadataHash;
    }

    /// @notice A registered cause that receives donations at `wallet`.
    struct Cause {
        address wallet;
        bool active;
        bytes32 metadataHash;
    }

    /// @notice A resident's redemption at a partner (EIP-712 primary type `Redemption`).
    struct Redemption {
        address resident;
        address partner;
        uint256 amount;
        bytes32 offerHash;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A redemption with its signature.
    struct SignedRedemption {
        Redemption redemption;
        bytes signature;
    }

    /// @notice A resident's donation to a cause (EIP-712 primary type `Donation`).
    struct Donation {
        address resident;
        uint32 causeId;
        uint256 amount;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A donation with its signature.
    struct SignedDonation {
        Donation donation;
        bytes signature;
    }

    /// @notice A resident's claim of a campaign bonus (EIP-712 primary type `Claim`).
    struct Claim {
        address resident;
        uint64 campaignId;
        uint256 amount;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A claim with the Merkle proof of `(resident, amount)` and the resident's signature.
    struct SignedClaim {
        Claim claim;
        bytes32[] proof;
        bytes signature;
    }

    /// @notice The reward policy changed (and was pushed to the registry and the feedback box).
    event RewardPolicyUpdated(address indexed by, uint64 perKm, uint64 per100Grams, uint256 perAcceptedFeedback);
    /// @notice A campaign was created.
    event CampaignCreated(uint256 indexed campaignId, address indexed by, Campaign campaign);
    /// @notice The ESG team reported a campaign's progress (auditable from the ledger's events).
    event CampaignProgressReported(uint256 indexed campaignId, address indexed by, uint128 progress);
    /// @notice A campaign ended as Achieved or Missed, or was Cancelled.
    event CampaignFinalized(uint256 indexed campaignId, address indexed by, CampaignStatus status, uint128 progress);
    /// @notice The bonus distribution of an achieved campaign was set.
    event CampaignBonusSet(uint256 indexed campaignId, address indexed by, bytes32 root, uint128 total);
    /// @notice A resident claimed a campaign bonus.
    event BonusClaimed(uint256 indexed campaignId, bytes32 indexed digest, address indexed resident, uint256 amount);
    /// @notice A partner was registered or updated.
    event PartnerSet(address indexed partner, address indexed by, bool burnOnRedeem, uint64 expiresAt, bytes32 metadataHash);
    /// @notice A partner was removed.
    event PartnerRemoved(address indexed partner, address indexed by);
    /// @notice A cause was registered or updated.
    event CauseSet(uint32 indexed causeId, address indexed by, address wallet, bool active, bytes32 metadataHash);
    /// @notice A resident redeemed points at a partner (burned, or transferred to the partner).
    event Redeemed(
        bytes32 indexed digest,
        address indexed resident,
        address indexed partner,
        uint256 amount,
        bytes32 offerHash,
        bool burned,
        uint64 nonce
    );
    /// @notice A resident donated points to a cause.
    event Donated(
        bytes32 indexed digest, address indexed resident, uint32 indexed causeId, address wallet, uint256 amount, uint64 nonce
    );

    /// @notice The token is paused: batches that move points wait.
    error CommunityRewardsTokenPaused();
    /// @notice The amount is zero.
    error CommunityRewardsZeroAmount();
    /// @notice The resident holds fewer points than the action needs.
    error CommunityRewardsInsufficientBalance(address resident, uint256 balance, uint256 amount);
    /// @notice The partner is not registered.
    error CommunityRewardsUnknownPartner(address partner);
    /// @notice The partner's registration expired.
    error CommunityRewardsPartnerExpired(address partner, uint64 expiresAt);
    /// @notice A partner address or cause wallet is zero, or a partner's expiry is in the past.
    error CommunityRewardsInvalidRegistration();
    /// @notice The cause does not exist or is inactive.
    error CommunityRewardsUnknownCause(uint32 causeId);
    /// @notice No campaign has this id.
    error CommunityRewardsUnknownCampaign(uint256 campaignId);
    /// @notice The campaign is not in the status the operation needs.
    error CommunityRewardsWrongCampaignStatus(uint256 campaignId, CampaignStatus status);
    /// @notice Bad campaign parameters (empty window, zero goal).
    error CommunityRewardsInvalidCampaign();
    /// @notice The campaign has not started yet, or has not ended yet.
    error CommunityRewardsCampaignTiming(uint256 campaignId, uint64 startsAt, uint64 endsAt, uint64 timestamp);
    /// @notice The bonus cannot change once claims started, and needs a root.
    error CommunityRewardsBonusLocked(uint256 campaignId);
    /// @notice The campaign has no bonus distribution yet.
    error CommunityRewardsNoBonus(uint256 campaignId);
    /// @notice The resident already claimed this campaign's bonus.
    error CommunityRewardsAlreadyClaimed(uint256 campaignId, address resident);
    /// @notice The Merkle proof does not show `(resident, amount)` in the campaign's root.
    error CommunityRewardsInvalidProof(uint256 campaignId, address resident, uint256 amount);
    /// @notice Claims would exceed the campaign's bonus total.
    error CommunityRewardsBonusExhausted(uint256 campaignId, uint256 remaining, uint256 amount);
}
