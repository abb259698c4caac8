// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStaffForwarder
/// @notice Types and views the {StaffForwarder} adds to OpenZeppelin's `ERC2771Forwarder`.
interface IStaffForwarder {
    /// @notice A staff member's request exactly as signed: the EIP-712 `ForwardRequest` (with the nonce,
    /// which `ERC2771Forwarder.ForwardRequestData` leaves out because it reads it from {nonces}).
    /// @param from The staff member who signs; the target sees this address as `_msgSender()`.
    /// @param to The ledger contract called. @param value Wei sent along (always 0 for the ledger's contracts).
    /// @param gas Gas the call gets. @param nonce The signer's forwarder nonce ({nonces}) the request uses.
    /// @param deadline Last timestamp the request may run at. @param data The call's calldata.
    struct ForwardRequest {
        address from;
        address to;
        uint256 value;
        uint256 gas;
        uint256 nonce;
        uint48 deadline;
        bytes data;
    }

    /// @notice The EIP-712 type a staff member signs.
    // solhint-disable-next-line func-name-mixedcase
    function FORWARD_REQUEST_TYPE() external view returns (string memory);

    /// @notice The EIP-712 domain separator of this forwarder on this chain.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The EIP-712 digest a staff member signs for `request` (whatever its nonce).
    /// @param request The request as signed.
    function forwardRequestDigest(ForwardRequest calldata request) external view returns (bytes32);
}
