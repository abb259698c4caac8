// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedActions} from "./ISignedActions.sol";

/// @title IFeedbackBox
/// @notice Types, events and errors of the virtual mayor's office feedback box.
interface IFeedbackBox is ISignedActions {
    /// @notice Where a feedback item stands. Submitted -> UnderReview -> Answered -> Closed.
    enum ItemStatus {
        None,
        Submitted,
        UnderReview,
        Answered,
        Closed
    }

    /// @notice A feedback submission as the resident signs it (EIP-712 primary type `Feedback`).
    /// The content stays off-chain; `contentHash` is its keccak256.
    struct Feedback {
        address resident;
        uint16 category;
        uint32 areaCode;
        bytes32 contentHash;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A submission with its signature (65-byte ECDSA or ERC-1271).
    struct SignedFeedback {
        Feedback feedback;
        bytes signature;
    }

    /// @notice A resident's "agree" on an item (EIP-712 primary type `Support`).
    struct Support {
        address resident;
        uint64 itemId;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A support with its signature.
    struct SignedSupport {
        Support support;
        bytes signature;
    }

    /// @notice A feedback item on-chain.
    struct Item {
        address author;
        uint16 category;
        ItemStatus status;
        bool hidden;
        bool accepted;
        uint40 submittedAt;
        uint32 supportCount;
        uint40 answerDueAt;
        uint40 answeredAt;
        bytes32 contentHash;
        bytes32 answerHash;
    }

    /// @notice Thresholds and caps.
    /// @param supportThreshold Supports that oblige the city to answer (0 = never).
    /// @param answerWindowSeconds Time to answer once the threshold is reached.
    /// @param maxSubmissionsPerDay Submissions per resident per day.
    /// @param maxSupportsPerDay Supports per resident per day.
    struct Settings {
        uint32 supportThreshold;
        uint32 answerWindowSeconds;
        uint8 maxSubmissionsPerDay;
        uint16 maxSupportsPerDay;
    }

    /// @notice Feedback was submitted as item `itemId`.
    event FeedbackSubmitted(
        uint256 indexed itemId,
        bytes32 indexed digest,
        address indexed resident,
        uint16 category,
        uint32 areaCode,
        bytes32 contentHash,
        uint64 nonce
    );
    /// @notice `resident` agreed with item `itemId`, which now has `supportCount` supportCount.
    event FeedbackSupported(
        uint256 indexed itemId, bytes32 indexed digest, address indexed resident, uint32 supportCount, uint64 nonce
    );
    /// @notice Item `itemId` reached the support threshold: the city must answer it by `dueAt`.
    event FeedbackAnswerRequired(uint256 indexed itemId, uint32 supportCount, uint64 dueAt);
    /// @notice A reviewer took item `itemId` under review.
    event FeedbackReviewStarted(uint256 indexed itemId, address indexed reviewer);
    /// @notice The official answer to item `itemId`; `reward` points were minted to its author.
    event FeedbackAnswered(
        uint256 indexed itemId, address indexed reviewer, bool accepted, bytes32 answerHash, uint256 reward
    );
    /// @notice Item `itemId` was closed.
    event FeedbackClosed(uint256 indexed itemId, address indexed reviewer);
    /// @notice A moderator hid item `itemId` (or showed it again, when `hidden` is false).
    event FeedbackModerated(uint256 indexed itemId, address indexed moderator, bool hidden, uint16 reasonCode);
    /// @notice A category was added, renamed, enabled or disabled.
    event FeedbackCategorySet(uint16 indexed category, address indexed by, bool enabled, string name);
    /// @notice The thresholds and caps changed.
    event FeedbackSettingsUpdated(address indexed by, Settings settings);
    /// @notice The reward for accepted feedback changed.
    event FeedbackRewardUpdated(address indexed by, uint256 reward);

    /// @notice The category does not exist or is disabled.
    error FeedbackBoxUnknownCategory(uint16 category);
    /// @notice The content hash is zero.
    error FeedbackBoxEmptyContent();
    /// @notice The resident already submitted the daily maximum.
    error FeedbackBoxDailySubmissionsExceeded(address resident, uint8 cap);
    /// @notice The resident already supported the daily maximum.
    error FeedbackBoxDailySupportsExceeded(address resident, uint16 cap);
    /// @notice No item has this id.
    error FeedbackBoxUnknownItem(uint256 itemId);
    /// @notice The item is not in the status the operation needs.
    error FeedbackBoxWrongStatus(uint256 itemId, ItemStatus status);
    /// @notice The item is hidden by moderation.
    error FeedbackBoxItemHidden(uint256 itemId);
    /// @notice The resident already supported this item.
    error FeedbackBoxAlreadySupported(uint256 itemId, address resident);
    /// @notice Authors cannot support their own item.
    error FeedbackBoxOwnItem(uint256 itemId, address resident);
    /// @notice The answer hash is zero.
    error FeedbackBoxEmptyAnswer(uint256 itemId);
    /// @notice The item is already in the moderation state asked for.
    error FeedbackBoxModerationUnchanged(uint256 itemId, bool hidden);
    /// @notice Settings with a zero cap, or a threshold without an answer window.
    error FeedbackBoxInvalidSettings();
}
