// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev A griefing smart account: accepts its owner's ECDSA signatures through ERC-1271 until the
/// owner calls {flip} (for instance between the relayer's simulation and the batch's inclusion, or
/// front-running the batch). From then on `isValidSignature` burns every unit of gas it is given
/// (`burnGas`) or answers "invalid"; {flip} again restores it.
contract FlagGriefingWallet is IERC1271 {
    address public immutable owner;
    bool public immutable burnGas;
    bool public flipped;

    /// @dev Only the owner flips the flag.
    error FlagGriefingWalletNotOwner(address caller, address owner);

    event Flipped(bool flipped);

    constructor(address owner_, bool burnGas_) {
        owner = owner_;
        burnGas = burnGas_;
    }

    /// @notice Turns the wallet's answers from valid to griefing, or back.
    function flip() external {
        if (msg.sender != owner) revert FlagGriefingWalletNotOwner(msg.sender, owner);
        bool on = !flipped;
        flipped = on;
        emit Flipped(on);
    }

    /// @notice ERC-1271: the magic value for the owner's ECDSA signature of `hash`, until flipped.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (flipped) {
            if (burnGas) {
                assembly ("memory-safe") {
                    invalid()
                }
            }
            return 0xffffffff;
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
