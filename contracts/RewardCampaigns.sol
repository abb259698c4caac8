// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICommunityRewards} from "./ICommunityRewards.sol";
import {IParticipationToken} from "./IParticipationToken.sol";
import {ResidentSlot} from "./Common.sol";
import {SignedActions} from "./SignedActions.sol";
import {StaffAccess} from "./StaffAccess.sol";

/// @title RewardCampaigns
/// @notice The campaign half of {CommunityRewards}: collective goals in time windows, and bonuses for
/// participants distributed by Merkle root (OpenZeppelin StandardMerkleTree leaves over
/// `(address resident, uint256 amount)`), claimed through residents' signed `Claim` actions.
/// @dev Progress is reported by the ESG team (CAMPAIGN_ROLE) and auditable against the ledger's events,
/// so that the plogging hot path carries no campaign bookkeeping.
abstract contract RewardCampaigns is SignedActions, StaffAccess, ICommunityRewards {
    /// @notice Holders may submit batches of signed claims, redemptions and donations.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice Holders (the ESG team) create, report, finalize and fund campaigns.
    bytes32 public constant CAMPAIGN_ROLE = keccak256("CAMPAIGN_ROLE");
    /// @notice Largest batch: 64 worst-case entries stay far under the 2**24 transaction gas cap.
    uint256 public constant MAX_BATCH = 64;

    /// @notice EIP-712 type of a bonus claim.
    string public constant CLAIM_TYPE =
        "Claim(address resident,uint64 campaignId,uint256 amount,uint64 nonce,uint64 deadline)";
    /// @notice keccak256 of {CLAIM_TYPE}.
    bytes32 public constant CLAIM_TYPEHASH =
        keccak256("Claim(address resident,uint64 campaignId,uint256 amount,uint64 nonce,uint64 deadline)");

    IParticipationToken internal immutable _token;
    uint256 private _campaignCount;
    mapping(uint256 campaignId => Campaign) private _campaigns;
    mapping(uint256 campaignId => mapping(address resident => bool)) private _claimed;

    /// @param token_ The participation token.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    constructor(IParticipationToken token_, address trustedForwarder_)
        SignedActions("CommunityRewards", "1")
        StaffAccess(trustedForwarder_)
    {
        _token = token_;
    }

    /// @notice Creates an Active campaign.
    /// @dev Requirements: CAMPAIGN_ROLE; startsAt < endsAt; a non-zero goal. Emits {CampaignCreated}.
    /// @param startsAt Start of the window (unix seconds). @param endsAt End of the window.
    /// @param metric What the goal counts. @param areaCode Area it runs in (0 = whole city).
    /// @param goal The collective goal. @param metadataHash keccak256 of its off-chain description.
    /// @return campaignId The new campaign's id (from 1).
    function createCampaign(
        uint64 startsAt,
        uint64 endsAt,
        CampaignMetric metric,
        uint32 areaCode,
        uint128 goal,
        bytes32 metadataHash
    ) external onlyRole(CAMPAIGN_ROLE) returns (uint256 campaignId) {
        if (startsAt >= endsAt || goal == 0) revert CommunityRewardsInvalidCampaign();
        campaignId = ++_campaignCount;
        Campaign storage c = _campaigns[campaignId];
        (c.startsAt, c.endsAt, c.metric, c.areaCode, c.status) = (startsAt, endsAt, metric, areaCode, CampaignStatus.Active);
        (c.goal, c.metadataHash) = (goal, metadataHash);
        emit CampaignCreated(campaignId, _msgSender(), c);
    }

    /// @notice Reports a campaign's progress so far (the total, not an increment).
    /// @dev Requirements: CAMPAIGN_ROLE; Active; started. Emits {CampaignProgressReported}.
    /// @param campaignId The campaign. @param progress Its total progress in its metric's unit.
    function reportCampaignProgress(uint256 campaignId, uint128 progress) external onlyRole(CAMPAIGN_ROLE) {
        Campaign storage c = _campaignWithStatus(campaignId, CampaignStatus.Active);
        uint64 now_ = _time();
        if (now_ < c.startsAt) revert CommunityRewardsCampaignTiming(campaignId, c.startsAt, c.endsAt, now_);
        c.progress = progress;
        emit CampaignProgressReported(campaignId, _msgSender(), progress);
    }

    /// @notice Ends a campaign after its window: Achieved when progress reached the goal, else Missed.
    /// @dev Requirements: CAMPAIGN_ROLE; Active; the window is over. Emits {CampaignFinalized}.
    /// @param campaignId The campaign.
    function finalizeCampaign(uint256 campaignId) external onlyRole(CAMPAIGN_ROLE) {
        Campaign storage c = _campaignWithStatus(campaignId, CampaignStatus.Active);
        uint64 now_ = _time();
        if (now_ <= c.endsAt) revert CommunityRewardsCampaignTiming(campaignId, c.startsAt, c.endsAt, now_);
        CampaignStatus status = c.progress >= c.goal ? CampaignStatus.Achieved : CampaignStatus.Missed;
        c.status = status;
        emit CampaignFinalized(campaignId, _msgSender(), status, c.progress);
    }

    /// @notice Cancels an Active campaign.
    /// @dev Requirements: CAMPAIGN_ROLE; Active. Emits {CampaignFinalized} with status Cancelled.
    /// @param campaignId The campaign.
    function cancelCampaign(uint256 campaignId) external onlyRole(CAMPAIGN_ROLE) {
        Campaign storage c = _campaignWithStatus(campaignId, CampaignStatus.Active);
        c.status = CampaignStatus.Cancelled;
        emit CampaignFinalized(campaignId, _msgSender(), CampaignStatus.Cancelled, c.progress);
    }

    /// @notice Sets the bonus distribution of an achieved campaign; replaceable until the first claim.
    /// @dev Requirements: CAMPAIGN_ROLE; Achieved; no claim yet; a non-zero root. Emits {CampaignBonusSet}.
    /// @param campaignId The campaign.
    /// @param root StandardMerkleTree root over `(address resident, uint256 amount)` leaves.
    /// @param total The sum of all amounts in the tree: claims can never mint more.
    function setCampaignBonus(uint256 campaignId, bytes32 root, uint128 total) external onlyRole(CAMPAIGN_ROLE) {
        Campaign storage c = _campaignWithStatus(campaignId, CampaignStatus.Achieved);
        if (c.bonusClaimed != 0 || root == bytes32(0)) revert CommunityRewardsBonusLocked(campaignId);
        (c.bonusRoot, c.bonusTotal) = (root, total);
        emit CampaignBonusSet(campaignId, _msgSender(), root, total);
    }

    /// @notice Pays a batch of signed bonus claims; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_BATCH entries; the token is not paused.
    /// Emits {BonusClaimed} or {ActionFailed} per entry, and the token's {Transfer} per claim paid.
    /// @param batch The signed claims with their proofs.
    /// @return failedMask Bit i is set when entry i was not paid.
    function claimBatch(SignedClaim[] calldata batch) external onlyRole(RELAYER_ROLE) returns (uint256 failedMask) {
        uint256 n = _startBatch(batch.length);
        address[] memory recipients = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 paid;
        for (uint256 i; i < n; ++i) {
            SignedClaim calldata entry = batch[i];
            Claim calldata cl = entry.claim;
            bytes32 d = claimDigest(cl);
            ResidentSlot memory slot = _readSlot(cl.resident);
            bytes memory reason = _validateClaim(cl, entry.proof, slot);
            // An empty reason means "no error", not a balance or time equality (slither false positive).
            // slither-disable-next-line incorrect-equality
            if (reason.length == 0) reason = _checkSignature(cl.resident, d, cl.deadline, entry.signature);
            if (reason.length != 0) {
                emit ActionFailed(d, cl.resident, cl.nonce, reason);
                // forge-lint: disable-next-line(incorrect-shift)
                failedMask |= 1 << i;
                continue;
            }
            _useNonce(slot, cl.nonce);
            _writeSlot(cl.resident, slot);
            _claimed[cl.campaignId][cl.resident] = true;
            // _validateClaim checked amount <= bonusTotal - bonusClaimed, so this stays <= bonusTotal.
            // forge-lint: disable-next-line(unsafe-typecast)
            _campaigns[cl.campaignId].bonusClaimed += uint128(cl.amount);
            emit BonusClaimed(cl.campaignId, d, cl.resident, cl.amount);
            (recipients[paid], amounts[paid]) = (cl.resident, cl.amount);
            // paid <= i < n <= MAX_BATCH.
            unchecked {
                ++paid;
            }
        }
        if (paid != 0) {
            // paid <= n: this only shortens the arrays.
            assembly ("memory-safe") {
                mstore(recipients, paid)
                mstore(amounts, paid)
            }
            _token.mintBatch(recipients, amounts);
        }
    }

    /// @notice Why `entry` would not be paid now (ABI-encoded custom error), or empty bytes if it would.
    /// @param entry The signed claim.
    function checkClaim(SignedClaim calldata entry) external view returns (bytes memory reason) {
        Claim calldata cl = entry.claim;
        reason = _validateClaim(cl, entry.proof, _readSlot(cl.resident));
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(cl.resident, claimDigest(cl), cl.deadline, entry.signature);
    }

    /// @notice The EIP-712 digest a resident signs for a claim.
    /// @param cl The claim.
    function claimDigest(Claim calldata cl) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, cl)));
    }

    /// @notice The campaign `campaignId` (all zero when it does not exist).
    function campaign(uint256 campaignId) external view returns (Campaign memory) {
        return _campaigns[campaignId];
    }

    /// @notice How many campaigns exist; ids run from 1 to campaignCount().
    function campaignCount() external view returns (uint256) {
        return _campaignCount;
    }

    /// @notice Whether `resident` claimed campaign `campaignId`'s bonus.
    function hasClaimed(uint256 campaignId, address resident) external view returns (bool) {
        return _claimed[campaignId][resident];
    }

    /// @notice The participation token.
    function token() external view returns (IParticipationToken) {
        return _token;
    }

    /// @dev Checks a batch's size and that the token can move points; returns the size.
    function _startBatch(uint256 n) internal view returns (uint256) {
        if (n == 0 || n > MAX_BATCH) revert SignedActionsBatchSize(n, MAX_BATCH);
        if (Pausable(address(_token)).paused()) revert CommunityRewardsTokenPaused();
        return n;
    }

    function _validateClaim(Claim calldata cl, bytes32[] calldata proof, ResidentSlot memory slot)
        private
        view
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, cl.resident, cl.nonce);
        if (reason.length != 0) return reason;
        Campaign storage c = _campaigns[cl.campaignId];
        if (c.status == CampaignStatus.None) {
            return abi.encodeWithSelector(CommunityRewardsUnknownCampaign.selector, cl.campaignId);
        }
        if (c.status != CampaignStatus.Achieved) {
            return abi.encodeWithSelector(CommunityRewardsWrongCampaignStatus.selector, cl.campaignId, c.status);
        }
        if (c.bonusRoot == bytes32(0)) return abi.encodeWithSelector(CommunityRewardsNoBonus.selector, cl.campaignId);
        if (cl.amount == 0) return abi.encodeWithSelector(CommunityRewardsZeroAmount.selector);
        if (_claimed[cl.campaignId][cl.resident]) {
            return abi.encodeWithSelector(CommunityRewardsAlreadyClaimed.selector, cl.campaignId, cl.resident);
        }
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(cl.resident, cl.amount))));
        if (!MerkleProof.verifyCalldata(proof, c.bonusRoot, leaf)) {
            return abi.encodeWithSelector(CommunityRewardsInvalidProof.selector, cl.campaignId, cl.resident, cl.amount);
        }
        // bonusClaimed <= bonusTotal always holds.
        uint256 remaining = c.bonusTotal - c.bonusClaimed;
        if (cl.amount > remaining) {
            return abi.encodeWithSelector(CommunityRewardsBonusExhausted.selector, cl.campaignId, remaining, cl.amount);
        }
    }

    function _campaignWithStatus(uint256 campaignId, CampaignStatus wanted) private view returns (Campaign storage c) {
        c = _campaigns[campaignId];
        if (c.status == CampaignStatus.None) revert CommunityRewardsUnknownCampaign(campaignId);
        if (c.status != wanted) revert CommunityRewardsWrongCampaignStatus(campaignId, c.status);
    }
}
