// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IParticipationToken
/// @notice Participation points: an ERC-20 that only the ledger contracts mint and move.
interface IParticipationToken {
    /// @notice A transfer between two holders was attempted by an account without the mover role.
    error ParticipationTokenTransferRestricted(address from, address to);
    /// @notice `recipients` and `amounts` differ in length.
    error ParticipationTokenLengthMismatch(uint256 recipients, uint256 amounts);

    /// @notice Mints `amount` points to `to`.
    /// @dev Requirements: the caller has MINTER_ROLE; the token is not paused. Emits {Transfer}.
    function mint(address to, uint256 amount) external;

    /// @notice Mints `amounts[i]` points to `recipients[i]` for every i, in one call.
    /// @dev Requirements: the caller has MINTER_ROLE; equal lengths; not paused. Emits one {Transfer} per entry.
    function mintBatch(address[] calldata recipients, uint256[] calldata amounts) external;

    /// @notice Burns `amount` points held by `from` (reward claw-back, redemption by burn).
    /// @dev Requirements: the caller has BURNER_ROLE; not paused. Emits {Transfer} to the zero address.
    function burnFrom(address from, uint256 amount) external;

    /// @notice Moves `amount` points from `from` to `to` (redemption at a partner, donation to a cause).
    /// @dev Requirements: the caller has MOVER_ROLE; not paused. Emits {Transfer}.
    function move(address from, address to, uint256 amount) external;

    /// @notice Stops every mint, burn and move. Requirements: the caller has PAUSER_ROLE. Emits {Paused}.
    function pause() external;

    /// @notice Resumes mints, burns and moves. Requirements: the caller has PAUSER_ROLE. Emits {Unpaused}.
    function unpause() external;
}
