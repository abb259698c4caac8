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

    /// @notice Sessions at or under every threshold are accepted (and rewarded) at once; any other
    /// valid session is recorded as Pending and rewarded only when a verifier accepts it.
    struct AutoAcceptThresholds {
        uint32 maxDistanceMeters;
        uint32 maxTrashGrams;
        uint64 maxReward;
    }

    /// @notice An auto-accepted session as committed in its batch's Merkle root, with the proof of it.
    /// @dev The leaf is `keccak256(abi.encode(digest, resident, reward))`; see {PloggingBatchCommitted}.
    struct CommittedSession {
        uint256 batchId;
        bytes32 digest;
        address resident;
        uint256 reward;
        bytes32[] proof;
    }

    /// @notice A session kept in storage: pending ones, verified ones and revoked ones.
    struct StoredSession {
        address resident;
        uint88 reward;
        SessionStatus status;
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
    /// @notice A batch's auto-accepted sessions were committed: `root` is the Merkle root (sorted-pair
    /// keccak, odd node carried up) over one leaf per Accepted {PloggingRecorded} of the batch, in order.
    event PloggingBatchCommitted(uint256 indexed batchId, bytes32 root, uint256 leafCount);
    /// @notice A verifier accepted a pending session; `minted` is `reward` less any clawback debt it paid.
    event PloggingVerified(
        bytes32 indexed digest, address indexed resident, address indexed verifier, uint256 reward, uint256 minted
    );
    /// @notice A verifier rejected a pending session; no reward is minted.
    event PloggingRejected(bytes32 indexed digest, address indexed resident, address indexed verifier, uint16 reasonCode);
    /// @notice A verifier revoked an accepted session; `burned` of its `reward` was burned, the rest became debt.
    event PloggingRevoked(
        bytes32 indexed digest,
        address indexed resident,
        address indexed verifier,
        uint16 reasonCode,
        uint256 reward,
        uint256 burned
    );
    /// @notice Clawback debt of `resident` was paid: `burned` points burned, `remaining` still owed.
    event PloggingClawbackSettled(address indexed resident, address indexed by, uint256 burned, uint256 remaining);
    /// @notice The auto-accept thresholds changed.
    event PloggingThresholdsUpdated(address indexed by, AutoAcceptThresholds thresholds);
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
    /// @notice The resident already recorded the daily maximum of sessions for the day this session started on.
    error PloggingRegistryDailySessionsExceeded(address resident, uint8 cap);
    /// @notice The session would take the resident over the litter cap of the day it started on.
    error PloggingRegistryDailyTrashExceeded(address resident, uint32 cap);
    /// @notice The session starts before `previousEnd`, the end of the resident's latest recorded session:
    /// it overlaps that session, or is older than it (each resident's sessions are recorded in chronological order).
    error PloggingRegistrySessionOverlaps(address resident, uint64 startedAt, uint64 previousEnd);
    /// @notice New bounds are inconsistent (a zero maximum, or min above max).
    error PloggingRegistryInvalidBounds();
    /// @notice A reward rate is above {MAX_RATE}.
    error PloggingRegistryRateTooHigh(uint64 perKm, uint64 per100Grams, uint64 max);
    /// @notice No session with this digest is stored (never recorded, or auto-accepted: use {revokeCommitted}).
    error PloggingRegistryUnknownSession(bytes32 digest);
    /// @notice The session is not in the status the operation needs.
    error PloggingRegistryWrongStatus(bytes32 digest, SessionStatus status);
    /// @notice No batch with this id was committed.
    error PloggingRegistryUnknownBatch(uint256 batchId);
    /// @notice The proof does not show the session and reward in the batch's root.
    error PloggingRegistryInvalidProof(uint256 batchId, bytes32 digest);
    /// @notice The resident owes no clawback debt.
    error PloggingRegistryNoDebt(address resident);

    /// @notice The EIP-712 type string of a session.
    function PLOGGING_SESSION_TYPE() external view returns (string memory);

    /// @notice keccak256 of {PLOGGING_SESSION_TYPE}.
    function PLOGGING_SESSION_TYPEHASH() external view returns (bytes32);

    /// @notice Records a batch of signed sessions; an invalid one emits {ActionFailed} and the rest go on.
    /// @dev Requirements: the caller has RELAYER_ROLE; 1 to MAX_BATCH entries.
    /// A session is recorded only if it starts at or after the end of its resident's latest recorded
    /// session ({PloggingRegistrySessionOverlaps} otherwise), and the daily caps count the day it started on.
    /// Emits {PloggingRecorded} or {ActionFailed} per entry, and the token's {Transfer} per reward.
    /// @param batch The signed sessions, in the order they should be recorded: each resident's in the
    /// order they took place (by `startedAt`).
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

    /// @notice The current auto-accept thresholds.
    function thresholds() external view returns (AutoAcceptThresholds memory);

    /// @notice Replaces the auto-accept thresholds.
    /// @dev Requirements: POLICY_ROLE. Emits {PloggingThresholdsUpdated}.
    /// @param newThresholds Sessions above any of these are recorded as Pending.
    function setThresholds(AutoAcceptThresholds calldata newThresholds) external;

    /// @notice Accepts a pending session and mints its reward (less any clawback debt, which it pays).
    /// @dev Requirements: VERIFIER_ROLE; the session is Pending; the token is not paused.
    /// Emits {PloggingVerified} and the token's {Transfer}.
    /// @param sessionDigest The session's EIP-712 digest.
    function verify(bytes32 sessionDigest) external;

    /// @notice Rejects a pending session: it will never be rewarded.
    /// @dev Requirements: VERIFIER_ROLE; the session is Pending. Emits {PloggingRejected}.
    /// @param sessionDigest The session's EIP-712 digest.
    /// @param reasonCode Why, from the ESG team's code list (0 = unspecified).
    function reject(bytes32 sessionDigest, uint16 reasonCode) external;

    /// @notice Revokes a session that was Pending and then verified, burning its reward.
    /// @dev Requirements: VERIFIER_ROLE; the stored session is Accepted; the token is not paused.
    /// What the resident no longer holds becomes clawback debt. Emits {PloggingRevoked} and {Transfer}.
    /// @param sessionDigest The session's EIP-712 digest.
    /// @param reasonCode Why, from the ESG team's code list (0 = unspecified).
    function revoke(bytes32 sessionDigest, uint16 reasonCode) external;

    /// @notice Revokes an auto-accepted session, proven by its batch's Merkle root, burning its reward.
    /// @dev Requirements: VERIFIER_ROLE; a valid proof; not revoked before; the token is not paused.
    /// What the resident no longer holds becomes clawback debt. Emits {PloggingRevoked} and {Transfer}.
    /// @param session The committed session and its proof.
    /// @param reasonCode Why, from the ESG team's code list (0 = unspecified).
    function revokeCommitted(CommittedSession calldata session, uint16 reasonCode) external;

    /// @notice Burns what `resident` now holds of their clawback debt.
    /// @dev Requirements: VERIFIER_ROLE; debt is owed. Emits {PloggingClawbackSettled} and {Transfer} when burning.
    /// @param resident The indebted resident.
    function settleClawback(address resident) external;

    /// @notice A stored session (pending, verified, rejected or revoked); zeros for any other digest.
    function storedSession(bytes32 sessionDigest) external view returns (StoredSession memory);

    /// @notice The Merkle root committed for `batchId` (zero when no such batch).
    function batchRoot(uint256 batchId) external view returns (bytes32);

    /// @notice How many batches have been committed; batch ids are 0 to batchCount() - 1.
    function batchCount() external view returns (uint256);

    /// @notice The points `resident` still owes from revocations they could not cover.
    function clawbackDebt(address resident) external view returns (uint256);

    /// @notice Replaces the bounds. Requirements: POLICY_ROLE; consistent bounds. Emits {PloggingBoundsUpdated}.
    function setBounds(PloggingBounds calldata newBounds) external;

    /// @notice Replaces the reward policy. Requirements: POLICY_ROLE; rates at most MAX_RATE.
    /// Emits {PloggingRewardUpdated}.
    function setReward(PloggingReward calldata newReward) external;
}
