// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipationToken} from "./IParticipationToken.sol";
import {IPloggingRegistry} from "./IPloggingRegistry.sol";
import {SignedActions} from "./SignedActions.sol";

/// @title PloggingRegistry
/// @notice Records residents' EIP-712-signed plogging sessions, submitted in batches by the relayer,
/// checks them against plausibility bounds and daily caps, and rewards them in participation points.
contract PloggingRegistry is SignedActions, AccessControl, IPloggingRegistry {
    /// @notice Holders may submit batches of signed sessions.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice Holders may change bounds, caps and the reward policy.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice The largest batch {recordBatch} takes (one bit of the failure mask per entry).
    uint256 public constant MAX_BATCH = 256;

    /// @inheritdoc IPloggingRegistry
    string public constant PLOGGING_SESSION_TYPE =
        "PloggingSession(address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,uint64 startedAt,bytes32 evidenceHash,uint64 nonce,uint64 deadline)";
    /// @inheritdoc IPloggingRegistry
    bytes32 public constant PLOGGING_SESSION_TYPEHASH = keccak256(bytes(PLOGGING_SESSION_TYPE));

    IParticipationToken private immutable _token;
    PloggingBounds private _bounds;
    PloggingReward private _reward;

    /// @param token_ The participation token; this contract needs its MINTER_ROLE.
    /// @param admin The account that receives DEFAULT_ADMIN_ROLE and POLICY_ROLE.
    /// @param initialBounds The first plausibility bounds and daily caps.
    /// @param initialReward The first reward policy.
    constructor(
        IParticipationToken token_,
        address admin,
        PloggingBounds memory initialBounds,
        PloggingReward memory initialReward
    ) SignedActions("PloggingRegistry", "1") {
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ROLE, admin);
        _setBounds(admin, initialBounds);
        _setReward(admin, initialReward);
    }

    /// @notice The participation token this registry mints.
    function token() external view returns (IParticipationToken) {
        return _token;
    }

    /// @inheritdoc IPloggingRegistry
    function recordBatch(SignedPloggingSession[] calldata batch)
        external
        onlyRole(RELAYER_ROLE)
        returns (uint256 failedMask)
    {
        uint256 n = batch.length;
        if (n == 0 || n > MAX_BATCH) revert SignedActionsBatchSize(n, MAX_BATCH);
        PloggingBounds memory limits = _bounds;
        PloggingReward memory policy = _reward;
        address[] memory recipients = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 minted;
        for (uint256 i; i < n; ++i) {
            uint256 amount = _recordOne(batch[i], limits, policy);
            if (amount == type(uint256).max) {
                // forge-lint: disable-next-line(incorrect-shift)
                failedMask |= 1 << i;
            } else if (amount != 0) {
                recipients[minted] = batch[i].session.resident;
                amounts[minted] = amount;
                // minted <= i < n <= MAX_BATCH: cannot overflow.
                unchecked {
                    ++minted;
                }
            }
        }
        if (minted != 0) {
            // Shrink both arrays to the entries filled in; minted <= n, so this only shortens them.
            assembly ("memory-safe") {
                mstore(recipients, minted)
                mstore(amounts, minted)
            }
            _token.mintBatch(recipients, amounts);
        }
    }

    /// @inheritdoc IPloggingRegistry
    function check(SignedPloggingSession calldata item) external view returns (bytes memory reason) {
        PloggingSession calldata s = item.session;
        ResidentSlot memory slot = _slots[s.resident];
        reason = _validate(s, slot, _bounds);
        if (reason.length == 0) reason = _checkSignature(s.resident, _digest(s), s.deadline, item.signature);
    }

    /// @inheritdoc IPloggingRegistry
    function digest(PloggingSession calldata session) external view returns (bytes32) {
        return _digest(session);
    }

    /// @inheritdoc IPloggingRegistry
    function bounds() external view returns (PloggingBounds memory) {
        return _bounds;
    }

    /// @inheritdoc IPloggingRegistry
    function reward() external view returns (PloggingReward memory) {
        return _reward;
    }

    /// @inheritdoc IPloggingRegistry
    function setBounds(PloggingBounds calldata newBounds) external onlyRole(POLICY_ROLE) {
        _setBounds(_msgSender(), newBounds);
    }

    /// @inheritdoc IPloggingRegistry
    function setReward(PloggingReward calldata newReward) external onlyRole(POLICY_ROLE) {
        _setReward(_msgSender(), newReward);
    }

    /// @dev Records one entry; returns its reward, or type(uint256).max when it failed (and was logged).
    function _recordOne(SignedPloggingSession calldata item, PloggingBounds memory limits, PloggingReward memory policy)
        private
        returns (uint256 amount)
    {
        PloggingSession calldata s = item.session;
        bytes32 d = _digest(s);
        ResidentSlot memory slot = _slots[s.resident];
        bytes memory reason = _validate(s, slot, limits);
        if (reason.length == 0) reason = _checkSignature(s.resident, d, s.deadline, item.signature);
        if (reason.length != 0) {
            emit ActionFailed(d, s.resident, s.nonce, reason);
            return type(uint256).max;
        }
        _useNonce(slot, s.nonce);
        // _validate reset the counters for a new day and checked both caps: these fit their types.
        unchecked {
            slot.countToday += 1;
            slot.amountToday += s.trashGrams;
        }
        _slots[s.resident] = slot;
        // Both factors are below 2**64, so neither product nor the sum can overflow uint256.
        unchecked {
            amount = (uint256(s.distanceMeters) * policy.perKm) / 1000
                + (uint256(s.trashGrams) * policy.per100Grams) / 100;
        }
        emit PloggingRecorded(
            d,
            s.resident,
            s.nonce,
            s.distanceMeters,
            s.durationSeconds,
            s.trashGrams,
            s.areaCode,
            s.startedAt,
            s.evidenceHash,
            amount,
            SessionStatus.Accepted
        );
    }

    /// @dev Checks nonce, bounds and daily caps; resets `slot`'s daily counters when the day changed.
    function _validate(PloggingSession calldata s, ResidentSlot memory slot, PloggingBounds memory limits)
        private
        view
        returns (bytes memory)
    {
        bytes memory reason = _checkNonce(slot, s.resident, s.nonce);
        if (reason.length != 0) return reason;
        if (s.durationSeconds < limits.minDurationSeconds || s.durationSeconds > limits.maxDurationSeconds) {
            return abi.encodeWithSelector(
                PloggingRegistryDurationOutOfBounds.selector,
                s.durationSeconds,
                limits.minDurationSeconds,
                limits.maxDurationSeconds
            );
        }
        if (s.distanceMeters > limits.maxDistanceMeters) {
            return abi.encodeWithSelector(PloggingRegistryDistanceTooLong.selector, s.distanceMeters, limits.maxDistanceMeters);
        }
        if (uint256(s.distanceMeters) * 100 > uint256(s.durationSeconds) * limits.maxSpeedCmPerSecond) {
            return abi.encodeWithSelector(
                PloggingRegistryTooFast.selector, s.distanceMeters, s.durationSeconds, limits.maxSpeedCmPerSecond
            );
        }
        if (s.trashGrams > limits.maxTrashGrams) {
            return abi.encodeWithSelector(PloggingRegistryTooMuchTrash.selector, s.trashGrams, limits.maxTrashGrams);
        }
        uint64 now_ = _time();
        uint64 earliest = now_ > limits.maxAgeSeconds ? now_ - limits.maxAgeSeconds : 0;
        if (s.startedAt < earliest || uint256(s.startedAt) + s.durationSeconds > now_) {
            uint64 latest = now_ > s.durationSeconds ? now_ - s.durationSeconds : 0;
            return abi.encodeWithSelector(PloggingRegistryStartOutOfRange.selector, s.startedAt, earliest, latest);
        }
        // Days since 1970 fit 24 bits until the year 45,000.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint24 today = uint24(now_ / 1 days);
        if (slot.day != today) {
            slot.day = today;
            slot.countToday = 0;
            slot.amountToday = 0;
        }
        if (slot.countToday >= limits.maxSessionsPerDay) {
            return abi.encodeWithSelector(PloggingRegistryDailySessionsExceeded.selector, s.resident, limits.maxSessionsPerDay);
        }
        if (uint256(slot.amountToday) + s.trashGrams > limits.maxTrashGramsPerDay) {
            return abi.encodeWithSelector(PloggingRegistryDailyTrashExceeded.selector, s.resident, limits.maxTrashGramsPerDay);
        }
        return "";
    }

    function _digest(PloggingSession calldata s) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PLOGGING_SESSION_TYPEHASH,
                    s.resident,
                    s.distanceMeters,
                    s.durationSeconds,
                    s.trashGrams,
                    s.areaCode,
                    s.startedAt,
                    s.evidenceHash,
                    s.nonce,
                    s.deadline
                )
            )
        );
    }

    function _setBounds(address by, PloggingBounds memory b) private {
        if (
            b.maxDurationSeconds == 0 || b.minDurationSeconds > b.maxDurationSeconds || b.maxDistanceMeters == 0
                || b.maxSpeedCmPerSecond == 0 || b.maxSessionsPerDay == 0 || b.maxTrashGramsPerDay < b.maxTrashGrams
        ) revert PloggingRegistryInvalidBounds();
        _bounds = b;
        emit PloggingBoundsUpdated(by, b);
    }

    function _setReward(address by, PloggingReward memory r) private {
        _reward = r;
        emit PloggingRewardUpdated(by, r.perKm, r.per100Grams);
    }
}
