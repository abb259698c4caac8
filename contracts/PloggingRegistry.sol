// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IParticipationToken} from "./IParticipationToken.sol";
import {IPloggingRegistry} from "./IPloggingRegistry.sol";
import {ResidentSlot} from "./Common.sol";
import {SignedActions} from "./SignedActions.sol";
import {StaffAccess} from "./StaffAccess.sol";
import {BatchMerkle} from "./utils/BatchMerkle.sol";

/// @title PloggingRegistry
/// @notice Records residents' EIP-712-signed plogging sessions, submitted in batches by the relayer,
/// checks them against plausibility bounds and daily caps, and rewards them in participation points.
/// Sessions under the auto-accept thresholds are rewarded at once; others wait, Pending, for the ESG
/// team's verification. Accepted sessions can be revoked later, which burns their reward.
///
/// Each resident's sessions are recorded in chronological order: a session must start at or after the
/// end (`startedAt + durationSeconds`) of the resident's latest recorded session, else it fails with
/// {PloggingRegistrySessionOverlaps}. So no two recorded sessions of one resident overlap, and the daily
/// caps count the day each session started on (`startedAt / 1 days`, UTC), whenever it is submitted:
/// the days of a resident's sessions only move forward, so one set of counters per resident suffices.
/// @dev Storage per auto-accepted session: none. Each batch commits one Merkle root over
/// `keccak256(abi.encode(digest, resident, reward))` of its accepted sessions, so a revocation proves
/// the session and its reward against that root. Pending sessions (rare) are stored.
contract PloggingRegistry is SignedActions, StaffAccess, IPloggingRegistry {
    /// @notice Holders may submit batches of signed sessions.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice Holders may change bounds, caps, thresholds and the reward policy.
    bytes32 public constant POLICY_ROLE = keccak256("POLICY_ROLE");
    /// @notice Holders (the ESG team) verify, reject and revoke sessions.
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice The largest batch {recordBatch} takes: 100 worst-case entries (first-time residents
    /// with ERC-1271 wallets using their whole gas allowance) stay under the 2**24 transaction gas cap.
    uint256 public constant MAX_BATCH = 100;
    /// @notice The highest reward rate (points per km or per 100 g); keeps rewards far below 2**88.
    uint64 public constant MAX_RATE = 1e12;

    /// @inheritdoc IPloggingRegistry
    string public constant PLOGGING_SESSION_TYPE =
        "PloggingSession(address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,uint64 startedAt,bytes32 evidenceHash,uint64 nonce,uint64 deadline)";
    /// @inheritdoc IPloggingRegistry
    /// @dev Hashes the literal (which the compiler folds), not `bytes(PLOGGING_SESSION_TYPE)` (which it
    /// would hash at run time on every use); a test checks that both agree.
    bytes32 public constant PLOGGING_SESSION_TYPEHASH = keccak256(
        "PloggingSession(address resident,uint32 distanceMeters,uint32 durationSeconds,uint32 trashGrams,uint32 areaCode,uint64 startedAt,bytes32 evidenceHash,uint64 nonce,uint64 deadline)"
    );

    IParticipationToken private immutable _token;
    PloggingBounds private _bounds;
    PloggingReward private _reward;
    AutoAcceptThresholds private _thresholds;
    bytes32[] private _batchRoots;
    mapping(bytes32 sessionDigest => StoredSession) private _stored;
    mapping(address resident => uint256) private _debt;

    /// @dev What a batch collects for its commitment and its single mint call.
    struct Outcome {
        address[] recipients;
        uint256[] amounts;
        bytes32[] leaves;
        uint256 minted;
        uint256 committed;
    }

    /// @dev Everything one batch reads from storage, read once.
    struct Config {
        PloggingBounds bounds;
        PloggingReward reward;
        AutoAcceptThresholds thresholds;
        uint64 now_;
    }

    /// @param token_ The participation token; this contract needs its MINTER_ROLE and BURNER_ROLE.
    /// @param admin The account that receives DEFAULT_ADMIN_ROLE and POLICY_ROLE.
    /// @param initialBounds The first plausibility bounds and daily caps.
    /// @param initialReward The first reward policy.
    /// @param trustedForwarder_ The {StaffForwarder} through which staff act as themselves (address(0): none).
    /// @dev The auto-accept thresholds start at their maximum (every valid session is accepted at once).
    constructor(
        IParticipationToken token_,
        address admin,
        PloggingBounds memory initialBounds,
        PloggingReward memory initialReward,
        address trustedForwarder_
    ) SignedActions("PloggingRegistry", "1") StaffAccess(trustedForwarder_) {
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ROLE, admin);
        _setBounds(admin, initialBounds);
        _setReward(admin, initialReward);
        _setThresholds(admin, AutoAcceptThresholds(type(uint32).max, type(uint32).max, type(uint64).max));
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
        Config memory c = Config(_bounds, _reward, _thresholds, _time());
        Outcome memory o = Outcome(new address[](n), new uint256[](n), new bytes32[](n), 0, 0);
        PloggingSession memory s = _sessionBuffer();
        for (uint256 i; i < n; ++i) {
            if (!_recordOne(batch[i], i, s, c, o)) {
                // forge-lint: disable-next-line(incorrect-shift)
                failedMask |= 1 << i;
            }
        }
        if (o.committed != 0) {
            bytes32 root = BatchMerkle.root(o.leaves, o.committed);
            uint256 batchId = _batchRoots.length;
            _batchRoots.push(root);
            emit PloggingBatchCommitted(batchId, root, o.committed);
        }
        if (o.minted != 0) {
            (address[] memory recipients, uint256[] memory amounts, uint256 minted) = (o.recipients, o.amounts, o.minted);
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
        PloggingSession memory s = _sessionBuffer();
        _load(item, 0, s);
        ResidentSlot memory slot = _readSlot(s.resident);
        reason = _validate(s, slot, _bounds, _time());
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(s.resident, _hashSession(s), s.deadline, item.signature);
    }

    /// @inheritdoc IPloggingRegistry
    function digest(PloggingSession calldata session) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(PLOGGING_SESSION_TYPEHASH, session)));
    }

    /// @inheritdoc IPloggingRegistry
    function verify(bytes32 sessionDigest) external onlyRole(VERIFIER_ROLE) {
        StoredSession memory st = _storedWithStatus(sessionDigest, SessionStatus.Pending);
        _stored[sessionDigest].status = SessionStatus.Accepted;
        uint256 debt = _debt[st.resident];
        uint256 paid = debt < st.reward ? debt : st.reward;
        if (paid != 0) _debt[st.resident] = debt - paid;
        // paid <= st.reward by construction.
        uint256 minted = st.reward - paid;
        emit PloggingVerified(sessionDigest, st.resident, _msgSender(), st.reward, minted);
        if (minted != 0) _token.mint(st.resident, minted);
    }

    /// @inheritdoc IPloggingRegistry
    function reject(bytes32 sessionDigest, uint16 reasonCode) external onlyRole(VERIFIER_ROLE) {
        StoredSession memory st = _storedWithStatus(sessionDigest, SessionStatus.Pending);
        _stored[sessionDigest].status = SessionStatus.Rejected;
        emit PloggingRejected(sessionDigest, st.resident, _msgSender(), reasonCode);
    }

    /// @inheritdoc IPloggingRegistry
    function revoke(bytes32 sessionDigest, uint16 reasonCode) external onlyRole(VERIFIER_ROLE) {
        StoredSession memory st = _storedWithStatus(sessionDigest, SessionStatus.Accepted);
        _stored[sessionDigest].status = SessionStatus.Revoked;
        _clawback(sessionDigest, st.resident, st.reward, reasonCode);
    }

    /// @inheritdoc IPloggingRegistry
    function revokeCommitted(CommittedSession calldata cs, uint16 reasonCode) external onlyRole(VERIFIER_ROLE) {
        if (cs.batchId >= _batchRoots.length) revert PloggingRegistryUnknownBatch(cs.batchId);
        bytes32 leaf = keccak256(abi.encode(cs.digest, cs.resident, cs.reward));
        if (!MerkleProof.verifyCalldata(cs.proof, _batchRoots[cs.batchId], leaf)) {
            revert PloggingRegistryInvalidProof(cs.batchId, cs.digest);
        }
        // Auto-accepted sessions are never stored, so a stored one was revoked already.
        SessionStatus status = _stored[cs.digest].status;
        if (status != SessionStatus.None) revert PloggingRegistryWrongStatus(cs.digest, status);
        _stored[cs.digest] = StoredSession(cs.resident, SafeCast.toUint88(cs.reward), SessionStatus.Revoked);
        _clawback(cs.digest, cs.resident, cs.reward, reasonCode);
    }

    /// @inheritdoc IPloggingRegistry
    function settleClawback(address resident) external onlyRole(VERIFIER_ROLE) {
        uint256 debt = _debt[resident];
        if (debt == 0) revert PloggingRegistryNoDebt(resident);
        uint256 balance = IERC20(address(_token)).balanceOf(resident);
        uint256 burned = balance < debt ? balance : debt;
        _debt[resident] = debt - burned;
        emit PloggingClawbackSettled(resident, _msgSender(), burned, debt - burned);
        if (burned != 0) _token.burnFrom(resident, burned);
    }

    /// @inheritdoc IPloggingRegistry
    function storedSession(bytes32 sessionDigest) external view returns (StoredSession memory) {
        return _stored[sessionDigest];
    }

    /// @inheritdoc IPloggingRegistry
    function batchRoot(uint256 batchId) external view returns (bytes32) {
        return batchId < _batchRoots.length ? _batchRoots[batchId] : bytes32(0);
    }

    /// @inheritdoc IPloggingRegistry
    function batchCount() external view returns (uint256) {
        return _batchRoots.length;
    }

    /// @inheritdoc IPloggingRegistry
    function clawbackDebt(address resident) external view returns (uint256) {
        return _debt[resident];
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
    function thresholds() external view returns (AutoAcceptThresholds memory) {
        return _thresholds;
    }

    /// @inheritdoc IPloggingRegistry
    function setBounds(PloggingBounds calldata newBounds) external onlyRole(POLICY_ROLE) {
        _setBounds(_msgSender(), newBounds);
    }

    /// @inheritdoc IPloggingRegistry
    function setReward(PloggingReward calldata newReward) external onlyRole(POLICY_ROLE) {
        _setReward(_msgSender(), newReward);
    }

    /// @inheritdoc IPloggingRegistry
    function setThresholds(AutoAcceptThresholds calldata newThresholds) external onlyRole(POLICY_ROLE) {
        _setThresholds(_msgSender(), newThresholds);
    }

    /// @dev Records entry `i`: false when it failed (and was logged with {ActionFailed}). Adds an
    /// Accepted session's Merkle leaf and reward to `o`; stores a Pending one. `s` is scratch space.
    function _recordOne(
        SignedPloggingSession calldata item,
        uint256 i,
        PloggingSession memory s,
        Config memory c,
        Outcome memory o
    ) private returns (bool) {
        _load(item, i, s);
        bytes32 d = _hashSession(s);
        address resident = s.resident;
        ResidentSlot memory slot = _readSlot(resident);
        bytes memory reason = _validate(s, slot, c.bounds, c.now_);
        // An empty reason means "no error", not a balance or time equality (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (reason.length == 0) reason = _checkSignature(resident, d, s.deadline, item.signature);
        if (reason.length != 0) {
            emit ActionFailed(d, resident, s.nonce, reason);
            return false;
        }
        _useNonce(slot, s.nonce);
        // _validate reset the counters for a new day and checked both caps: these fit their types.
        // It also checked startedAt + durationSeconds <= now_, which fits 40 bits until the year 36,812.
        unchecked {
            slot.countToday += 1;
            slot.amountToday += s.trashGrams;
            // forge-lint: disable-next-line(unsafe-typecast)
            slot.lastEnd = uint40(s.startedAt + s.durationSeconds);
        }
        _writeSlot(resident, slot);
        uint256 amount;
        // Rates are at most MAX_RATE (< 2**40) and the factors below 2**32: no overflow in uint256.
        unchecked {
            amount = (uint256(s.distanceMeters) * c.reward.perKm) / 1000
                + (uint256(s.trashGrams) * c.reward.per100Grams) / 100;
        }
        AutoAcceptThresholds memory t = c.thresholds;
        SessionStatus status;
        if (s.distanceMeters > t.maxDistanceMeters || s.trashGrams > t.maxTrashGrams || amount > t.maxReward) {
            status = SessionStatus.Pending;
            // amount < 2**67 (see above), so the cast cannot truncate.
            // forge-lint: disable-next-line(unsafe-typecast)
            _stored[d] = StoredSession(resident, uint88(amount), SessionStatus.Pending);
        } else {
            status = SessionStatus.Accepted;
            bytes32 leaf;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore(ptr, d)
                mstore(add(ptr, 0x20), resident)
                mstore(add(ptr, 0x40), amount)
                leaf := keccak256(ptr, 0x60)
            }
            // Both counters are at most the entry index + 1 <= MAX_BATCH: no overflow.
            unchecked {
                o.leaves[o.committed++] = leaf;
                if (amount != 0) {
                    o.recipients[o.minted] = resident;
                    o.amounts[o.minted++] = amount;
                }
            }
        }
        _emitRecorded(s, d, amount, status);
        return true;
    }

    /// @dev Emits {PloggingRecorded} straight from `s`, which it overwrites: words 1-6 of the session
    /// (distanceMeters .. evidenceHash) are already words 1-6 of the event's data; word 0 becomes the
    /// nonce, word 7 the reward and word 8 the status. Saves re-encoding nine values per session.
    function _emitRecorded(PloggingSession memory s, bytes32 d, uint256 amount, SessionStatus status) private {
        bytes32 topic0 = PloggingRecorded.selector;
        assembly ("memory-safe") {
            let resident := mload(s)
            mstore(s, mload(add(s, 0xe0)))
            mstore(add(s, 0xe0), amount)
            mstore(add(s, 0x100), status)
            log3(s, 0x120, topic0, d, resident)
        }
    }

    /// @dev A session in memory with one free word in front of it, where {_hashSession} puts the type hash.
    function _sessionBuffer() private pure returns (PloggingSession memory s) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(0x40, add(buf, 0x140))
            s := add(buf, 0x20)
        }
    }

    /// @dev Copies entry `i`'s session (a static struct: nine words at the start of the entry) into `s`,
    /// and rejects dirty high bits, which a checked ABI decoder would reject too.
    function _load(SignedPloggingSession calldata item, uint256 i, PloggingSession memory s) private pure {
        bool dirty;
        assembly ("memory-safe") {
            calldatacopy(s, item, 0x120)
            let bits := shr(160, mload(s))
            bits := or(bits, shr(32, or(or(mload(add(s, 0x20)), mload(add(s, 0x40))), or(mload(add(s, 0x60)), mload(add(s, 0x80))))))
            bits := or(bits, shr(64, or(mload(add(s, 0xa0)), or(mload(add(s, 0xe0)), mload(add(s, 0x100))))))
            dirty := iszero(iszero(bits))
        }
        if (dirty) revert SignedActionsMalformedAction(i);
    }

    /// @dev The EIP-712 digest of `s` (from {_sessionBuffer}): hashes the type hash and the nine clean
    /// words in place, exactly `keccak256(abi.encode(PLOGGING_SESSION_TYPEHASH, ...fields))`.
    function _hashSession(PloggingSession memory s) private view returns (bytes32) {
        bytes32 typehash = PLOGGING_SESSION_TYPEHASH;
        bytes32 structHash;
        assembly ("memory-safe") {
            let start := sub(s, 0x20)
            mstore(start, typehash)
            structHash := keccak256(start, 0x140)
        }
        return _hashTypedDataV4(structHash);
    }

    /// @dev Checks nonce, bounds, chronological order and the daily caps of the session's own day; resets
    /// `slot`'s daily counters when the session starts on a later day than the slot's.
    /// Returns the ABI-encoded error, or empty bytes (no allocation) when the session passes.
    function _validate(PloggingSession memory s, ResidentSlot memory slot, PloggingBounds memory limits, uint64 now_)
        private
        pure
        returns (bytes memory reason)
    {
        reason = _checkNonce(slot, s.resident, s.nonce);
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
        uint64 earliest = now_ > limits.maxAgeSeconds ? now_ - limits.maxAgeSeconds : 0;
        if (s.startedAt < earliest || uint256(s.startedAt) + s.durationSeconds > now_) {
            uint64 latest = now_ > s.durationSeconds ? now_ - s.durationSeconds : 0;
            return abi.encodeWithSelector(PloggingRegistryStartOutOfRange.selector, s.startedAt, earliest, latest);
        }
        // Chronological order: a session never starts before the latest one ended, so its day is never
        // earlier than the slot's and the counters below are those of the session's own day.
        if (s.startedAt < slot.lastEnd) {
            return abi.encodeWithSelector(
                PloggingRegistrySessionOverlaps.selector, s.resident, s.startedAt, uint64(slot.lastEnd)
            );
        }
        _rollDay(slot, s.startedAt);
        if (slot.countToday >= limits.maxSessionsPerDay) {
            return abi.encodeWithSelector(PloggingRegistryDailySessionsExceeded.selector, s.resident, limits.maxSessionsPerDay);
        }
        if (uint256(slot.amountToday) + s.trashGrams > limits.maxTrashGramsPerDay) {
            return abi.encodeWithSelector(PloggingRegistryDailyTrashExceeded.selector, s.resident, limits.maxTrashGramsPerDay);
        }
    }

    function _storedWithStatus(bytes32 sessionDigest, SessionStatus wanted) private view returns (StoredSession memory st) {
        st = _stored[sessionDigest];
        // An enum compared with its zero value, not a balance or time (slither false positive).
        // slither-disable-next-line incorrect-equality
        if (st.status == SessionStatus.None) revert PloggingRegistryUnknownSession(sessionDigest);
        if (st.status != wanted) revert PloggingRegistryWrongStatus(sessionDigest, st.status);
    }

    /// @dev Burns what the resident holds of `amount`; the rest becomes clawback debt.
    function _clawback(bytes32 sessionDigest, address resident, uint256 amount, uint16 reasonCode) private {
        uint256 balance = IERC20(address(_token)).balanceOf(resident);
        uint256 burned = balance < amount ? balance : amount;
        if (burned < amount) _debt[resident] += amount - burned;
        emit PloggingRevoked(sessionDigest, resident, _msgSender(), reasonCode, amount, burned);
        if (burned != 0) _token.burnFrom(resident, burned);
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
        if (r.perKm > MAX_RATE || r.per100Grams > MAX_RATE) {
            revert PloggingRegistryRateTooHigh(r.perKm, r.per100Grams, MAX_RATE);
        }
        _reward = r;
        emit PloggingRewardUpdated(by, r.perKm, r.per100Grams);
    }

    function _setThresholds(address by, AutoAcceptThresholds memory t) private {
        _thresholds = t;
        emit PloggingThresholdsUpdated(by, t);
    }
}
