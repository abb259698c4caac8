// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Per-resident state of a signed-actions contract, packed into one storage slot:
/// the replay window (192 bits) plus 64 bits of daily counters for the contract that owns it.
/// @dev `next` is one past the highest nonce used; bit i of `window` marks nonce `next - 1 - i` used.
/// `day` is the day number (unix time / 1 days) the two counters belong to.
struct ResidentSlot {
    uint64 next;
    uint128 window;
    uint24 day;
    uint8 countToday;
    uint32 amountToday;
}

/// @notice The kinds of signed action, as the {ActionBatcher} routes them.
enum ActionKind {
    Plogging,
    Feedback,
    Support,
    Redemption,
    Donation,
    Claim
}
