// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Per-resident state of a signed-actions contract, packed into one storage slot: the replay
/// window (152 bits), the end of the latest recorded session (40 bits) and 64 bits of daily counters.
/// @dev `next` is one past the highest nonce used; bit i of `window` marks nonce `next - 1 - i` used.
/// `lastEnd` is `startedAt + durationSeconds` of the resident's latest recorded plogging session
/// (unix seconds; zero before the first, and in contracts that record no sessions).
/// `day` is the day number (unix time / 1 days) the two counters belong to.
struct ResidentSlot {
    uint64 next;
    uint88 window;
    uint40 lastEnd;
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
