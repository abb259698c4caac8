// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedActions} from "./ISignedActions.sol";

/// @title IPloggingRegistry
/// @notice Types, events and errors of the plogging registry: residents' signed plogging sessions.
interface IPloggingRegistry is ISignedActions {
    /// @notice A plogging session as the resident signs it (EIP-712 primary type `PloggingSession`).
    struct PloggingSession {
        address resident;
        uint32 distanceMeters;
        uint32 durationSeconds;
        uint32 trashGrams;
        uint32 areaCode;
        uint64 startedAt;
        bytes32 evidenceHash;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A session with its signature (65-byte ECDSA, or whatever the resident's ERC-1271 wallet accepts).
    struct SignedPloggingSession {
        PloggingSession session;
        bytes signature;
    }

    /// @notice Plausibility bounds and daily caps, checked for every session.
    struct PloggingBounds {
        uint32 minDurationSeconds;
        uint32 maxDurationSeconds;
        uint32 maxDistanceMeters;
        uint32 maxSpeedCmPerSecond;
        uint32 maxTrashGrams;
        uint32 maxAgeSeconds;
        uint32 maxTrashGramsPerDay;
        uint8 maxSessionsPerDay;
    }

    /// @notice Points per kilometre and per 100 grams of litter.
    struct PloggingReward {
        uint64 perKm;
        uint64 per100Grams;
    }

    /// @notice Where a recorded session stands.
    enum SessionStatus {
        None,
        Pending,
        Accepted,
        Rejected,
        Revoked
    }

    /// @notice A session was recorded (and `reward` points minted to the resident when accepted).
    event PloggingRecorded(
        bytes32 indexed digest,
        address indexed resident,
        uint64 nonce,
        uint32 distanceMeters,
        uint32 durationSeconds,
        uint32 trashGrams,
        uint32 areaCode,
        uint64 startedAt,
        bytes32 evidenceHash,
        uint256 reward,
        SessionStatus status
    );
    /// @notice The plausibility bounds and daily caps changed.
    event PloggingBoundsUpdated(address indexed by, PloggingBounds bounds);
    /// @notice The reward policy changed.
    event PloggingRewardUpdated(address indexed by, uint64 perKm, uint64 per100Grams);

    /// @notice The session lasted less than the minimum or more than the maximum.
    error PloggingRegistryDurationOutOfBounds(uint32 durationSeconds, uint32 min, uint32 max);
    /// @notice The session is longer than the maximum distance.
    error PloggingRegistryDistanceTooLong(uint32 distanceMeters, uint32 max);
    /// @notice The average speed is above the maximum (cm/s).
    error PloggingRegistryTooFast(uint32 distanceMeters, uint32 durationSeconds, uint32 maxSpeedCmPerSecond);
    /// @notice More litter than one session can plausibly collect.
    error PloggingRegistryTooMuchTrash(uint32 trashGrams, uint32 max);
    /// @notice The session ends in the future or started before the oldest accepted start time.
    error PloggingRegistryStartOutOfRange(uint64 startedAt, uint64 earliest, uint64 latest);
    /// @notice The resident already recorded the daily maximum of sessions.
    error PloggingRegistryDailySessionsExceeded(address resident, uint8 cap);
    /// @notice The session would take the resident over the daily litter cap.
    error PloggingRegistryDailyTrashExceeded(address resident, uint32 cap);
    /// @notice New bounds are inconsistent (a zero maximum, or min above max).
    error PloggingRegistryInvalidBounds();

    /// @notice The EIP-712 type string of a session.
    function PLOGGING_SESSION_TYPE() external view returns (string memory);

    /// @notice keccak256 of {PLOGGING_SESSION_TYPE}.
    function PLOGGING_SESSION_TYPEHASH() external view returns (bytes32);

    /// @notice Records a batch of signed sessions; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: the caller has RELAYER_ROLE; 1 to MAX_BATCH entries.
    /// Emits {PloggingRecorded} or {ActionFailed} per entry, and the token's {Transfer} per reward.
    /// @param batch The signed sessions, in the order their nonces should be used.
    /// @return failedMask Bit i is set when entry i was not recorded.
    function recordBatch(SignedPloggingSession[] calldata batch) external returns (uint256 failedMask);

    /// @notice Why `item` would not be recorded now, as an ABI-encoded custom error, or empty bytes if it would.
    function check(SignedPloggingSession calldata item) external view returns (bytes memory reason);

    /// @notice The EIP-712 digest a resident signs for `session`.
    function digest(PloggingSession calldata session) external view returns (bytes32);

    /// @notice The current bounds and daily caps.
    function bounds() external view returns (PloggingBounds memory);

    /// @notice The current reward policy.
    function reward() external view returns (PloggingReward memory);

    /// @notice Replaces the bounds. Requirements: POLICY_ROLE; consistent bounds. Emits {PloggingBoundsUpdated}.
    function setBounds(PloggingBounds calldata newBounds) external;

    /// @notice Replaces the reward policy. Requirements: POLICY_ROLE. Emits {PloggingRewardUpdated}.
    function setReward(PloggingReward calldata newReward) external;
}
