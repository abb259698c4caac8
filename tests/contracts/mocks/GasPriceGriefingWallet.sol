// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev A griefing smart account: accepts its owner's ECDSA signatures through ERC-1271 only while
/// `tx.gasprice` is at most `maxGasPrice`. Above it, `isValidSignature` burns every unit of gas it is
/// given (`burnGas`) or answers "invalid". A simulation (eth_call, eth_estimateGas, eth_simulateV1) at a
/// lower gas price than the real transaction thus sees a valid, cheap signature that the real
/// transaction finds invalid, and expensive.
contract GasPriceGriefingWallet is IERC1271 {
    address public immutable owner;
    uint256 public immutable maxGasPrice;
    bool public immutable burnGas;

    constructor(address owner_, uint256 maxGasPrice_, bool burnGas_) {
        owner = owner_;
        maxGasPrice = maxGasPrice_;
        burnGas = burnGas_;
    }

    /// @notice ERC-1271: the magic value for the owner's ECDSA signature of `hash`, at gas prices up to `maxGasPrice`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (tx.gasprice > maxGasPrice) {
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
