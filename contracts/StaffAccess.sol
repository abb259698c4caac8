// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

/// @title StaffAccess
/// @notice Roles for staff who act as themselves: OpenZeppelin `AccessControl`, where the caller is the
/// signer of a request relayed by the one trusted {StaffForwarder} (ERC-2771), and otherwise `msg.sender`.
/// Every role check and every `by` in an event goes through `_msgSender()`, so a staff member's relayed,
/// gasless call is authorized by, and recorded under, their own address.
/// @dev The forwarder is fixed at construction (immutable): no admin can later trust another one.
/// `address(0)` trusts none (staff then call directly). The ledger contracts make no `delegatecall`
/// and have no `multicall`, so no call inside them reaches `_msgSender()` with calldata the forwarder
/// did not write (the ERC-2771 + Multicall spoofing class, OpenZeppelin advisory of December 2023).
abstract contract StaffAccess is AccessControl, ERC2771Context {
    /// @notice Auditors read (the mirror, the chain); no function checks this role. Granting it on-chain
    /// records who audits, with a {RoleGranted} event, for the off-chain mirror of staff roles.
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");

    /// @param trustedForwarder_ The {StaffForwarder} (or address(0) for none).
    constructor(address trustedForwarder_) ERC2771Context(trustedForwarder_) {}

    /// @dev The signer when the trusted forwarder calls (the last 20 bytes of calldata), else `msg.sender`.
    function _msgSender() internal view virtual override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    /// @dev The calldata without the forwarder's 20-byte suffix when the trusted forwarder calls.
    function _msgData() internal view virtual override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    /// @dev 20: ERC-2771 appends one address.
    function _contextSuffixLength() internal view virtual override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
