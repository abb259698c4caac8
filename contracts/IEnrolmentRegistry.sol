// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IEnrolmentRegistry
/// @notice Types, events and errors of the record of who counts as a resident, and who vouched for them.
interface IEnrolmentRegistry {
    /// @notice One resident to enrol in {enrolBatch}.
    /// @param resident The resident's address. @param party The accountable party's code (a platform, a
    /// service desk), as the product names it. @param evidenceHash keccak256 of the evidence kept off
    /// chain (a signed consent form, a platform's vouching record); no personal data on chain.
    struct Enrolment {
        address resident;
        bytes32 party;
        bytes32 evidenceHash;
    }

    /// @notice `enroller` (the staff member's or platform's own address, via the forwarder) enrolled
    /// `resident` for `party`, with `evidenceHash` of the evidence kept off chain.
    event ResidentEnrolled(
        address indexed resident, address indexed enroller, bytes32 indexed party, bytes32 evidenceHash
    );
    /// @notice `by` withdrew `resident`'s enrolment (made for `party`) with `reasonCode` (erasure, a mistake).
    event ResidentWithdrawn(address indexed resident, address indexed by, bytes32 indexed party, uint16 reasonCode);

    /// @notice The resident is enrolled already (for `party`): an enrolment is recorded once.
    error EnrolmentRegistryAlreadyEnrolled(address resident, bytes32 party);
    /// @notice The resident is not enrolled.
    error EnrolmentRegistryNotEnrolled(address resident);
    /// @notice The resident is the zero address.
    error EnrolmentRegistryZeroResident();
    /// @notice The party code is zero: every enrolment names its accountable party.
    error EnrolmentRegistryZeroParty();
    /// @notice An empty batch, or more than MAX_BATCH entries.
    error EnrolmentRegistryBatchSize(uint256 size, uint256 max);

    /// @notice Enrols `resident` for `party`.
    function enrol(address resident, bytes32 party, bytes32 evidenceHash) external;

    /// @notice Enrols each resident of `batch` not enrolled yet; returns how many were.
    function enrolBatch(Enrolment[] calldata batch) external returns (uint256 enrolled);

    /// @notice Withdraws `resident`'s enrolment, naming a reason code.
    function withdraw(address resident, uint16 reasonCode) external;

    /// @notice Whether `resident` is enrolled now.
    function isEnrolled(address resident) external view returns (bool);

    /// @notice `resident`'s enrolment: its party, who enrolled them and when (all zero if not enrolled).
    function enrolmentOf(address resident) external view returns (bytes32 party, address enroller, uint64 enrolledAt);
}
