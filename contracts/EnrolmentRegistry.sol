// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IEnrolmentRegistry} from "./IEnrolmentRegistry.sol";
import {StaffAccess} from "./StaffAccess.sol";

/// @title EnrolmentRegistry
/// @notice Who counts as a resident: an accountable party (a platform vouching for its user, or a staff
/// member at a service desk) enrols a resident's address, naming its party code and the hash of the
/// evidence it keeps off chain. Anyone can check that a rewarded address had a {ResidentEnrolled} event,
/// naming who enrolled it, before its first reward.
/// @dev Recorded here, enforced by the product: the reward contracts do not call {isEnrolled}. Only the
/// relayer (RELAYER_ROLE) can submit residents' batches, and the product refuses an unenrolled resident
/// before anything is signed or sent, so a check in every action would add a cross-contract call and a
/// cold storage read per resident per batch and enforce nothing more (docs/contracts.md, "Enrolment").
/// Enrollers act as themselves through the {StaffForwarder}: `enroller` in the events is `_msgSender()`.
contract EnrolmentRegistry is StaffAccess, IEnrolmentRegistry {
    /// @notice Holders (service-desk staff, each platform's enrolment key) may enrol and withdraw.
    bytes32 public constant ENROLLER_ROLE = keccak256("ENROLLER_ROLE");
    /// @notice The most entries in one {enrolBatch}.
    uint256 public constant MAX_BATCH = 256;

    /// @dev One slot for the check (enroller and time), one for the party.
    struct Record {
        address enroller;
        uint64 enrolledAt;
    }

    mapping(address resident => Record) private _records;
    mapping(address resident => bytes32) private _parties;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (grants ENROLLER_ROLE, may withdraw).
    /// @param trustedForwarder_ The {StaffForwarder} through which enrollers act as themselves (address(0): none).
    constructor(address admin, address trustedForwarder_) StaffAccess(trustedForwarder_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Enrols `resident` for `party`.
    /// @dev Requirements: ENROLLER_ROLE; a non-zero resident and party; the resident not enrolled (an
    /// enrolment is recorded once, by the party that is accountable for it: withdraw it first to change
    /// it). Emits {ResidentEnrolled}.
    /// @param resident The resident's address. @param party The accountable party's code.
    /// @param evidenceHash keccak256 of the evidence kept off chain.
    function enrol(address resident, bytes32 party, bytes32 evidenceHash) external onlyRole(ENROLLER_ROLE) {
        if (!_enrol(resident, party, evidenceHash, _msgSender())) {
            revert EnrolmentRegistryAlreadyEnrolled(resident, _parties[resident]);
        }
    }

    /// @notice Enrols each resident of `batch` that is not enrolled yet; one already enrolled is skipped
    /// (no event), so a retried or overlapping bulk enrols everyone once and reverts for no one.
    /// @dev Requirements: ENROLLER_ROLE; 1 to MAX_BATCH entries, each with a non-zero resident and party.
    /// Emits {ResidentEnrolled} per resident enrolled.
    /// @param batch The residents, each with its party and evidence hash.
    /// @return enrolled How many were enrolled by this call.
    function enrolBatch(Enrolment[] calldata batch) external onlyRole(ENROLLER_ROLE) returns (uint256 enrolled) {
        uint256 n = batch.length;
        if (n == 0 || n > MAX_BATCH) revert EnrolmentRegistryBatchSize(n, MAX_BATCH);
        address enroller = _msgSender();
        for (uint256 i; i < n; ++i) {
            Enrolment calldata e = batch[i];
            if (_enrol(e.resident, e.party, e.evidenceHash, enroller)) {
                // At most MAX_BATCH: cannot overflow.
                unchecked {
                    ++enrolled;
                }
            }
        }
    }

    /// @notice Withdraws `resident`'s enrolment (an erasure request, an enrolment made by mistake).
    /// @dev Requirements: ENROLLER_ROLE (the admin holds it from deployment, and can always grant it to
    /// itself: one role per staff function, as everywhere in the ledger); the resident enrolled.
    /// Emits {ResidentWithdrawn}.
    /// @param resident The resident. @param reasonCode The product's reason code.
    function withdraw(address resident, uint16 reasonCode) external onlyRole(ENROLLER_ROLE) {
        address by = _msgSender();
        if (_records[resident].enrolledAt == 0) revert EnrolmentRegistryNotEnrolled(resident);
        bytes32 party = _parties[resident];
        delete _records[resident];
        delete _parties[resident];
        emit ResidentWithdrawn(resident, by, party, reasonCode);
    }

    /// @inheritdoc IEnrolmentRegistry
    function isEnrolled(address resident) external view returns (bool) {
        // Not a time comparison: a zero time marks "not enrolled".
        // slither-disable-next-line timestamp
        return _records[resident].enrolledAt != 0;
    }

    /// @inheritdoc IEnrolmentRegistry
    function enrolmentOf(address resident) external view returns (bytes32 party, address enroller, uint64 enrolledAt) {
        Record memory r = _records[resident];
        return (_parties[resident], r.enroller, r.enrolledAt);
    }

    /// @dev False (and nothing written) when `resident` is enrolled already.
    function _enrol(address resident, bytes32 party, bytes32 evidenceHash, address enroller) private returns (bool) {
        if (resident == address(0)) revert EnrolmentRegistryZeroResident();
        if (party == 0) revert EnrolmentRegistryZeroParty();
        // Not a time comparison: a zero time marks "not enrolled".
        // slither-disable-next-line timestamp
        if (_records[resident].enrolledAt != 0) return false;
        _records[resident] = Record(enroller, uint64(_time()));
        _parties[resident] = party;
        emit ResidentEnrolled(resident, enroller, party, evidenceHash);
        return true;
    }

    /// @dev The clock (tests may override). Never zero on a real chain, so zero means "not enrolled".
    function _time() internal view virtual returns (uint256) {
        return block.timestamp;
    }
}
