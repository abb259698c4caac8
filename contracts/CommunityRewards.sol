// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {FeedbackBox} from "./FeedbackBox.sol";
import {IParticipationToken} from "./IParticipationToken.sol";
import {IPloggingRegistry} from "./IPloggingRegistry.sol";
import {ResidentSlot} from "./Common.sol";
import {RewardCampaigns} from "./RewardCampaigns.sol";

/// @title CommunityRewards
/// @notice The one place the city sets its reward policy (pushed to the registry and the feedback box,
/// which apply it), runs campaigns (see {RewardCampaigns}), registers partners and causes, and where
/// residents' signed redemptions (at partners) and donations (to causes) move their points.
/// @dev Batches check everything first and touch the token only after the loop, so no external call
/// comes between two entries' state changes. Redemption and donation are the only ways points leave
/// a resident (besides revocation's claw-back).
contract CommunityRewards is RewardCampaigns {
    /// @notice Holders change the reward policy. This contract needs POLICY_ROLE on the registry and the box.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice Holders register, update and remove partners and causes.
    bytes32 public constant PARTNER_MANAGER_ROLE = keccak256("PARTNER_MANAGER_ROLE");

    /// @notice EIP-712 type of a redemption.
    string public constant REDEMPTION_TYPE =
        "Redemption(address resident,address partner,uint256 amount,bytes32 offerHash,uint64 nonce,uint64 deadline)";
    /// @notice keccak256 of {REDEMPTION_TYPE}.
    bytes32 public constant REDEMPTION_TYPEHASH = keccak256(
        "Redemption(address resident,address partner,uint256 amount,bytes32 offerHash,uint64 nonce,uint64 deadline)"
    );
    /// @notice EIP-712 type of a donation.
    string public constant DONATION_TYPE =
        "Donation(address resident,uint32 causeId,uint256 amount,uint64 nonce,uint64 deadline)";
    /// @notice keccak256 of {DONATION_TYPE}.
    bytes32 public constant DONATION_TYPEHASH =
        keccak256("Donation(address resident,uint32 causeId,uint256 amount,uint64 nonce,uint64 deadline)");

    IPloggingRegistry private immutable _registry;
    FeedbackBox private immutable _feedbackBox;
    mapping(address partner => Partner) private _partners;
    mapping(uint32 causeId => Cause) private _causes;

    /// @dev Point movements a batch has decided, executed after its loop. `to == 0` burns.
    struct Moves {
        address[] from;
        address[] to;
        uint256[] amounts;
        uint256 count;
    }

    /// @param token_ The participation token: this contract needs MINTER_ROLE (bonuses), BURNER_ROLE
    /// (redemptions by burn) and MOVER_ROLE (redemptions by transfer, donations).
    /// @param registry_ The plogging registry whose per-km and per-100 g rates it sets.
    /// @param feedbackBox_ The feedback box whose accepted-feedback reward it sets.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and POLICY_ROLE.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    constructor(
        IParticipationToken token_,
        IPloggingRegistry registry_,
        FeedbackBox feedbackBox_,
        address admin,
        address trustedForwarder_
    ) RewardCampaigns(token_, trustedForwarder_) {
        _registry = registry_;
        _feedbackBox = feedbackBox_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ROLE, admin);
    }

    /// @notice Sets the whole reward policy and pushes it to the registry and the feedback box.
    /// @dev Requirements: POLICY_ROLE here, and this contract holds POLICY_ROLE there; rates within the
    /// registry's MAX_RATE. Emits {RewardPolicyUpdated}, and their own update events.
    /// @param policy Points per km, per 100 g of litter, and per accepted feedback.
    function setRewardPolicy(RewardPolicy calldata policy) external onlyRole(POLICY_ROLE) {
        emit RewardPolicyUpdated(_msgSender(), policy.perKm, policy.per100Grams, policy.perAcceptedFeedback);
        _registry.setReward(IPloggingRegistry.PloggingReward(policy.perKm, policy.per100Grams));
        _feedbackBox.setAcceptedReward(policy.perAcceptedFeedback);
    }

    /// @notice The reward policy in force, read from where it is applied.
    function rewardPolicy() external view returns (RewardPolicy memory) {
        IPloggingRegistry.PloggingReward memory r = _registry.reward();
        return RewardPolicy(r.perKm, r.per100Grams, _feedbackBox.acceptedReward());
    }

    /// @notice Registers or updates a partner.
    /// @dev Requirements: PARTNER_MANAGER_ROLE; a non-zero address; an expiry in the future. Emits {PartnerSet}.
    /// @param partner The partner's account. @param burnOnRedeem Burn redeemed points instead of transferring them.
    /// @param expiresAt When its registration ends. @param metadataHash keccak256 of its off-chain record.
    function setPartner(address partner, bool burnOnRedeem, uint64 expiresAt, bytes32 metadataHash)
        external
        onlyRole(PARTNER_MANAGER_ROLE)
    {
        if (partner == address(0) || expiresAt <= _time()) revert CommunityRewardsInvalidRegistration();
        _partners[partner] = Partner(true, burnOnRedeem, expiresAt, metadataHash);
        emit PartnerSet(partner, _msgSender(), burnOnRedeem, expiresAt, metadataHash);
    }

    /// @notice Removes a partner.
    /// @dev Requirements: PARTNER_MANAGER_ROLE; the partner is registered. Emits {PartnerRemoved}.
    /// @param partner The partner's account.
    function removePartner(address partner) external onlyRole(PARTNER_MANAGER_ROLE) {
        if (!_partners[partner].registered) revert CommunityRewardsUnknownPartner(partner);
        delete _partners[partner];
        emit PartnerRemoved(partner, _msgSender());
    }

    /// @notice Registers, updates, activates or deactivates a cause.
    /// @dev Requirements: PARTNER_MANAGER_ROLE; a non-zero wallet. Emits {CauseSet}.
    /// @param causeId The cause's id. @param wallet Where donations go. @param active Whether it takes donations.
    /// @param metadataHash keccak256 of its off-chain description.
    function setCause(uint32 causeId, address wallet, bool active, bytes32 metadataHash)
        external
        onlyRole(PARTNER_MANAGER_ROLE)
    {
        if (wallet == address(0)) revert CommunityRewardsInvalidRegistration();
        _causes[causeId] = Cause(wallet, active, metadataHash);
        emit CauseSet(causeId, _msgSender(), wallet, active, metadataHash);
    }

    /// @notice Executes a batch of signed redemptions; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_BATCH entries; the token is not paused.
    /// Emits {Redeemed} or {ActionFailed} per entry, and the token's {Transfer} per redemption.
    /// @param batch The signed redemptions.
    /// @return failedMask Bit i is set when entry i was not executed.
    function redeemBatch(SignedRedemption[] calldata batch) external onlyRole(RELAYER_ROLE) returns (uint256 failedMask) {
        uint256 n = _startBatch(batch.length);
        Moves memory m = _newMoves(n);
        for (uint256 i; i < n; ++i) {
            Redemption calldata r = batch[i].redemption;
            bytes32 d = redemptionDigest(r);
            ResidentSlot memory slot = _readSlot(r.resident);
            bytes memory reason = _validateRedemption(r, slot, _pending(m, r.resident));
            // An empty reason means "no error", not a balance or time equality (slither false positive).
            // slither-disable-next-line incorrect-equality
            if (reason.length == 0) reason = _checkSignature(r.resident, d, r.deadline, batch[i].signature);
            if (reason.length != 0) {
                emit ActionFailed(d, r.resident, r.nonce, reason);
                // forge-lint: disable-next-line(incorrect-shift)
                failedMask |= 1 << i;
                continue;
            }
            _useNonce(slot, r.nonce);
            _writeSlot(r.resident, slot);
            bool burn = _partners[r.partner].burnOnRedeem;
            emit Redeemed(d, r.resident, r.partner, r.amount, r.offerHash, burn, r.nonce);
            _addMove(m, r.resident, burn ? address(0) : r.partner, r.amount);
        }
        _execute(m);
    }

    /// @notice Executes a batch of signed donations; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_BATCH entries; the token is not paused.
    /// Emits {Donated} or {ActionFailed} per entry, and the token's {Transfer} per donation.
    /// @param batch The signed donations.
    /// @return failedMask Bit i is set when entry i was not executed.
    function donateBatch(SignedDonation[] calldata batch) external onlyRole(RELAYER_ROLE) returns (uint256 failedMask) {
        uint256 n = _startBatch(batch.length);
        Moves memory m = _newMoves(n);
        for (uint256 i; i < n; ++i) {
            Donation calldata dn = batch[i].donation;
            bytes32 d = donationDigest(dn);
            ResidentSlot memory slot = _readSlot(dn.resident);
            bytes memory reason = _validateDonation(dn, slot, _pending(m, dn.resident));
            // An empty reason means "no error", not a balance or time equality (slither false positive).
            // slither-disable-next-line incorrect-equality
            if (reason.length == 0) reason = _checkSignature(dn.resident, d, dn.deadline, batch[i].signature);
            if (reason.length != 0) {
                emit ActionFailed(d, dn.resident, dn.nonce, reason);
                // forge-lint: disable-next-line(incorrect-shift)
                failedMask |= 1 << i;
                continue;
            }
            _useNonce(slot, dn.nonce);
            _writeSlot(dn.resident, slot);
            address wallet = _causes[dn.causeId].wallet;
            emit Donated(d, dn.resident, dn.causeId, wallet, dn.amount, dn.nonce);
            _addMove(m, dn.resident, wallet, dn.amount);
        }
        _execute(m);
    }

    /// @notice Why `entry` would not be executed now (ABI-encoded custom error), or empty bytes if it would.
    /// @param entry The signed redemption.
    function checkRedemption(SignedRedemption calldata entry) external view returns (bytes memory reason) {
        Redemption calldata r = entry.redemption;
        reason = _validateRedemption(r, _readSlot(r.resident), 0);
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(r.resident, redemptionDigest(r), r.deadline, entry.signature);
    }

    /// @notice Why `entry` would not be executed now (ABI-encoded custom error), or empty bytes if it would.
    /// @param entry The signed donation.
    function checkDonation(SignedDonation calldata entry) external view returns (bytes memory reason) {
        Donation calldata dn = entry.donation;
        reason = _validateDonation(dn, _readSlot(dn.resident), 0);
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(dn.resident, donationDigest(dn), dn.deadline, entry.signature);
    }

    /// @notice The EIP-712 digest a resident signs for a redemption.
    /// @param r The redemption.
    function redemptionDigest(Redemption calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REDEMPTION_TYPEHASH, r)));
    }

    /// @notice The EIP-712 digest a resident signs for a donation.
    /// @param dn The donation.
    function donationDigest(Donation calldata dn) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(DONATION_TYPEHASH, dn)));
    }

    /// @notice The partner record of `partner_` (all zero when not registered).
    function partnerOf(address partner_) external view returns (Partner memory) {
        return _partners[partner_];
    }

    /// @notice Whether `partner_` is registered and not expired.
    function isPartnerActive(address partner_) external view returns (bool) {
        Partner storage p = _partners[partner_];
        return p.registered && p.expiresAt > _time();
    }

    /// @notice The cause `causeId` (all zero when not registered).
    function causeOf(uint32 causeId) external view returns (Cause memory) {
        return _causes[causeId];
    }

    function _validateRedemption(Redemption calldata r, ResidentSlot memory slot, uint256 pending)
        private
        view
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, r.resident, r.nonce);
        if (reason.length != 0) return reason;
        Partner storage p = _partners[r.partner];
        if (!p.registered) return abi.encodeWithSelector(CommunityRewardsUnknownPartner.selector, r.partner);
        if (p.expiresAt <= _time()) {
            return abi.encodeWithSelector(CommunityRewardsPartnerExpired.selector, r.partner, p.expiresAt);
        }
        return _checkFunds(r.resident, r.amount, pending);
    }

    function _validateDonation(Donation calldata dn, ResidentSlot memory slot, uint256 pending)
        private
        view
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, dn.resident, dn.nonce);
        if (reason.length != 0) return reason;
        if (!_causes[dn.causeId].active) return abi.encodeWithSelector(CommunityRewardsUnknownCause.selector, dn.causeId);
        return _checkFunds(dn.resident, dn.amount, pending);
    }

    /// @dev `pending`: what earlier entries of the same batch already take from the resident.
    function _checkFunds(address resident, uint256 amount, uint256 pending) private view returns (bytes memory) {
        if (amount == 0) return abi.encodeWithSelector(CommunityRewardsZeroAmount.selector);
        uint256 balance = IERC20(address(_token)).balanceOf(resident);
        // pending is a sum of amounts each checked against this balance, so pending <= balance.
        uint256 available = balance - pending;
        if (amount > available) {
            return abi.encodeWithSelector(CommunityRewardsInsufficientBalance.selector, resident, available, amount);
        }
        return "";
    }

    function _newMoves(uint256 n) private pure returns (Moves memory) {
        return Moves(new address[](n), new address[](n), new uint256[](n), 0);
    }

    function _addMove(Moves memory m, address from, address to, uint256 amount) private pure {
        (m.from[m.count], m.to[m.count], m.amounts[m.count]) = (from, to, amount);
        // count <= entry index < MAX_BATCH.
        unchecked {
            ++m.count;
        }
    }

    /// @dev Points that earlier entries of this batch take from `resident` (at most MAX_BATCH entries to scan).
    function _pending(Moves memory m, address resident) private pure returns (uint256 sum) {
        for (uint256 i; i < m.count; ++i) {
            if (m.from[i] == resident) sum += m.amounts[i];
        }
    }

    /// @dev The batch's token calls, after all its checks and state changes. None can fail: the token is
    /// not paused and every amount was checked against the balance left by the earlier entries.
    function _execute(Moves memory m) private {
        for (uint256 i; i < m.count; ++i) {
            if (m.to[i] == address(0)) _token.burnFrom(m.from[i], m.amounts[i]);
            else _token.move(m.from[i], m.to[i], m.amounts[i]);
        }
    }
}
