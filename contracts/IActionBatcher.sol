// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ActionKind} from "./Common.sol";

/// @title IActionBatcher
/// @notice Types, events and errors of the mixed-kind batch entry.
interface IActionBatcher {
    /// @notice A run of signed actions of one kind.
    /// @param kind Which kind (and so which contract and batch function).
    /// @param data `abi.encode(entries)`: exactly the argument of that kind's batch function, e.g.
    /// `abi.encode(SignedPloggingSession[])` for {PloggingRegistry.recordBatch}.
    struct Group {
        ActionKind kind;
        bytes data;
    }

    /// @notice A group as a whole did not run (its entries are unaffected and may be resubmitted);
    /// `reason` is the target's revert data (an ABI-encoded custom error). Failures of single entries
    /// are {ISignedActions.ActionFailed} events of the target contracts.
    event GroupFailed(uint256 indexed index, ActionKind indexed kind, uint256 entries, bytes reason);

    /// @notice No groups, or more than MAX_GROUPS.
    error ActionBatcherGroupCount(uint256 groups, uint256 max);
    /// @notice A group's data is not `abi.encode` of an array (first word 0x20, then the length).
    error ActionBatcherMalformedGroup(uint256 index);
    /// @notice The groups together exceed one transaction's gas budget (each kind's share is entries / MAX_BATCH).
    error ActionBatcherOverBudget(uint256 units, uint256 max);
    /// @notice A target address is zero.
    error ActionBatcherZeroTarget();
}
