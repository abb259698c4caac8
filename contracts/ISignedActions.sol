// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISignedActions
/// @notice Events and errors shared by every contract that records residents' EIP-712-signed actions.
interface ISignedActions {
    /// @notice An action in a batch was not recorded; the other actions in the batch were unaffected.
    /// @param digest The EIP-712 digest of the action (the relayer's idempotency key).
    /// @param resident The address the action claims to be signed by.
    /// @param nonce The action's nonce.
    /// @param reason The ABI-encoded custom error explaining the failure.
    event ActionFailed(bytes32 indexed digest, address indexed resident, uint64 nonce, bytes reason);

    /// @notice The action's deadline has passed.
    error SignedActionsExpired(uint64 deadline, uint64 timestamp);
    /// @notice The nonce has already been used by this resident.
    error SignedActionsNonceUsed(address resident, uint64 nonce);
    /// @notice The nonce lies below the resident's replay window and can no longer be used.
    error SignedActionsNonceTooOld(address resident, uint64 nonce, uint64 oldestUsable);
    /// @notice The nonce is 2**64 - 1, which is never usable: one past it would wrap the replay window to 0.
    error SignedActionsNonceExhausted(address resident, uint64 nonce);
    /// @notice The signature is not the resident's (neither ECDSA nor ERC-1271).
    error SignedActionsInvalidSignature(address resident, bytes32 digest);
    /// @notice An action's calldata is not a clean ABI encoding (dirty high bits); only a broken encoder sends this.
    error SignedActionsMalformedAction(uint256 index);
    /// @notice A batch was empty or longer than the contract accepts.
    error SignedActionsBatchSize(uint256 size, uint256 max);

    /// @notice The EIP-712 domain separator for this contract on this chain.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice Whether `nonce` can still be used by `resident`.
    /// @return usable False when the nonce was used, lies below the replay window, or is 2**64 - 1.
    function isNonceUsable(address resident, uint64 nonce) external view returns (bool usable);

    /// @notice The resident's replay window: one past the highest nonce used, and the bitmap of used nonces below it.
    /// @dev Bit i of `window` is set when nonce `next - 1 - i` has been used. The window is 88 nonces wide
    /// (bits 88 and up are always zero; the type stays uint128 for the ABI): nonces `next - 88` and
    /// below can no longer be used.
    function nonceWindow(address resident) external view returns (uint64 next, uint128 window);
}
