// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev A minimal smart account: accepts ECDSA signatures of its owner through ERC-1271.
/// `burnGas` makes it spend gas in isValidSignature (worst-case tests); `returnBomb` answers with
/// a huge payload to check the caller copies only 32 bytes.
contract ERC1271WalletMock is IERC1271 {
    address public owner;
    uint256 public burnGas;
    bool public returnBomb;

    constructor(address owner_) {
        owner = owner_;
    }

    function setBurnGas(uint256 amount) external {
        burnGas = amount;
    }

    function setReturnBomb(bool on) external {
        returnBomb = on;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        uint256 target = burnGas;
        if (target != 0) {
            uint256 start = gasleft();
            while (start - gasleft() < target) {}
        }
        if (returnBomb) {
            assembly {
                mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0, 100000)
            }
        }
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? this.isValidSignature.selector : bytes4(0xffffffff);
    }
}
