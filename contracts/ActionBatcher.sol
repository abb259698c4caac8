// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ActionKind} from "./Common.sol";
import {CommunityRewards} from "./CommunityRewards.sol";
import {FeedbackBox} from "./FeedbackBox.sol";
import {IActionBatcher} from "./IActionBatcher.sol";
import {PloggingRegistry} from "./PloggingRegistry.sol";
import {RewardCampaigns} from "./RewardCampaigns.sol";
import {StaffAccess} from "./StaffAccess.sol";

/// @title ActionBatcher
/// @notice One entry point for mixed batches: groups of signed actions of any kind, run in order, each
/// group forwarded unchanged to its contract's batch function. This contract holds RELAYER_ROLE on the
/// registry, the feedback box and community rewards; the relayer holds RELAYER_ROLE here.
/// @dev Failure isolation on two levels: inside a group, the target logs a bad entry with
/// {ISignedActions.ActionFailed} and goes on; a group that reverts as a whole (a paused token, a malformed
/// group) is logged with {GroupFailed} and the next group runs. The entry count is capped by gas:
/// each group costs entries / MAX_BATCH of its kind of the budget, and the sum may not exceed 1.
contract ActionBatcher is StaffAccess, IActionBatcher {
    /// @notice Holders may submit mixed batches.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice The most groups in one call.
    uint256 public constant MAX_GROUPS = 16;
    /// @notice The whole budget of one call, in units: a kind's entry costs BUDGET_UNITS / its MAX_BATCH.
    uint256 public constant BUDGET_UNITS = 1_600;

    PloggingRegistry private immutable _registry;
    FeedbackBox private immutable _feedbackBox;
    CommunityRewards private immutable _rewards;
    uint256 private immutable _ploggingUnits;
    uint256 private immutable _feedbackUnits;
    uint256 private immutable _rewardsUnits;

    /// @param registry_ The plogging registry. @param feedbackBox_ The feedback box.
    /// @param rewards_ Community rewards. @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    constructor(
        PloggingRegistry registry_,
        FeedbackBox feedbackBox_,
        CommunityRewards rewards_,
        address admin,
        address trustedForwarder_
    ) StaffAccess(trustedForwarder_) {
        if (address(registry_) == address(0) || address(feedbackBox_) == address(0) || address(rewards_) == address(0)) {
            revert ActionBatcherZeroTarget();
        }
        (_registry, _feedbackBox, _rewards) = (registry_, feedbackBox_, rewards_);
        // Rounded up, so a full group of any kind uses at least the whole budget.
        _ploggingUnits = (BUDGET_UNITS + registry_.MAX_BATCH() - 1) / registry_.MAX_BATCH();
        _feedbackUnits = (BUDGET_UNITS + feedbackBox_.MAX_BATCH() - 1) / feedbackBox_.MAX_BATCH();
        _rewardsUnits = (BUDGET_UNITS + rewards_.MAX_BATCH() - 1) / rewards_.MAX_BATCH();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Runs the groups in order; a failing group is logged and skipped.
    /// @dev Requirements: RELAYER_ROLE; 1 to MAX_GROUPS groups; each group's data an encoded array; the
    /// total weight within BUDGET_UNITS. Emits the targets' events, and {GroupFailed} per failed group.
    /// @param groups The groups.
    /// @return failedMasks Per group, the target's failure mask (bit i: entry i failed); all of the group's
    /// bits when the whole group failed.
    function execute(Group[] calldata groups) external onlyRole(RELAYER_ROLE) returns (uint256[] memory failedMasks) {
        uint256 g = groups.length;
        if (g == 0 || g > MAX_GROUPS) revert ActionBatcherGroupCount(g, MAX_GROUPS);
        uint256[] memory counts = new uint256[](g);
        uint256 units = 0;
        for (uint256 i; i < g; ++i) {
            counts[i] = _entryCount(groups[i].data, i);
            units += counts[i] * _unitsOf(groups[i].kind);
        }
        if (units > BUDGET_UNITS) revert ActionBatcherOverBudget(units, BUDGET_UNITS);
        failedMasks = new uint256[](g);
        for (uint256 i; i < g; ++i) {
            (address target, bytes4 selector) = _route(groups[i].kind);
            // Trusted targets fixed at deployment; the call cannot reach anything else.
            // slither-disable-next-line low-level-calls
            (bool ok, bytes memory ret) = target.call(bytes.concat(selector, groups[i].data));
            if (ok && ret.length == 32) {
                failedMasks[i] = abi.decode(ret, (uint256));
            } else {
                // counts[i] <= 256 (each kind's MAX_BATCH), so the shift is in range.
                failedMasks[i] = counts[i] >= 256 ? type(uint256).max : (uint256(1) << counts[i]) - 1;
                emit GroupFailed(i, groups[i].kind, counts[i], ret);
            }
        }
    }

    /// @notice The contract and batch function a kind goes to.
    /// @param kind The action kind.
    function route(ActionKind kind) external view returns (address target, bytes4 selector) {
        return _route(kind);
    }

    function _route(ActionKind kind) private view returns (address, bytes4) {
        if (kind == ActionKind.Plogging) return (address(_registry), PloggingRegistry.recordBatch.selector);
        if (kind == ActionKind.Feedback) return (address(_feedbackBox), FeedbackBox.submitBatch.selector);
        if (kind == ActionKind.Support) return (address(_feedbackBox), FeedbackBox.supportBatch.selector);
        if (kind == ActionKind.Redemption) return (address(_rewards), CommunityRewards.redeemBatch.selector);
        if (kind == ActionKind.Donation) return (address(_rewards), CommunityRewards.donateBatch.selector);
        return (address(_rewards), RewardCampaigns.claimBatch.selector);
    }

    function _unitsOf(ActionKind kind) private view returns (uint256) {
        if (kind == ActionKind.Plogging) return _ploggingUnits;
        if (kind == ActionKind.Feedback || kind == ActionKind.Support) return _feedbackUnits;
        return _rewardsUnits;
    }

    /// @dev The length of the array `data` encodes: its first word must be the offset 0x20.
    function _entryCount(bytes calldata data, uint256 index) private pure returns (uint256 n) {
        if (data.length < 64 || bytes32(data[0:32]) != bytes32(uint256(0x20))) revert ActionBatcherMalformedGroup(index);
        n = uint256(bytes32(data[32:64]));
    }
}
