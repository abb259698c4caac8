// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {IStaffForwarder} from "./IStaffForwarder.sol";

/// @title StaffForwarder
/// @notice The one ERC-2771 forwarder every ledger contract trusts, so that staff act as themselves
/// without holding gas: a staff member signs an EIP-712 `ForwardRequest` for any of the ledger's staff
/// functions, the relayer submits it ({execute}, or {executeBatch} with the relayer as refund receiver so
/// that one failing request is skipped), and the called contract sees the signer as `_msgSender()`: its
/// role checks and its events (`by`, `verifier`, `moderator`, ...) name the staff member.
/// @dev OpenZeppelin's `ERC2771Forwarder` unchanged, under a fixed EIP-712 domain (name
/// "ESGStaffForwarder", version "1"), plus the views Python checks its typed data against. No owner, no
/// upgrade, no roles: the forwarder cannot be redirected, and it only ever appends the address that
/// signed the request it executes. Requests carry sequential nonces per signer ({nonces}).
contract StaffForwarder is ERC2771Forwarder, IStaffForwarder {
    /// @notice The forwarder's EIP-712 domain name.
    string public constant NAME = "ESGStaffForwarder";
    /// @inheritdoc IStaffForwarder
    string public constant FORWARD_REQUEST_TYPE =
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)";

    constructor() ERC2771Forwarder(NAME) {}

    /// @inheritdoc IStaffForwarder
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IStaffForwarder
    /// @dev The hash `ERC2771Forwarder` recovers the signer from, with the nonce taken from `request`.
    function forwardRequestDigest(ForwardRequest calldata request) external view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    FORWARD_REQUEST_TYPEHASH,
                    request.from,
                    request.to,
                    request.value,
                    request.gas,
                    request.nonce,
                    request.deadline,
                    keccak256(request.data)
                )
            )
        );
    }
}
