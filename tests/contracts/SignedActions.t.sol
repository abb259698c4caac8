// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Test} from "forge-std/Test.sol";
import {SignedActions} from "../../contracts/SignedActions.sol";
import {ResidentSlot} from "../../contracts/Common.sol";

contract SignedActionsHarness is SignedActions {
    constructor() SignedActions("Harness", "1") {}

    function recover(bytes32 digest, bytes calldata signature) external view returns (address) {
        return _recoverCalldata(digest, signature);
    }

    function use(address resident, uint64 nonce) external returns (bool) {
        ResidentSlot memory slot = _readSlot(resident);
        if (_checkNonce(slot, resident, nonce).length != 0) return false;
        _useNonce(slot, nonce);
        _writeSlot(resident, slot);
        return true;
    }
}

contract SignedActionsTest is Test {
    SignedActionsHarness internal h = new SignedActionsHarness();

    /// @dev The assembly ecrecover agrees with OpenZeppelin's ECDSA.tryRecover on any 65 bytes.
    function testFuzz_recoverMatchesOpenZeppelin(bytes32 digest, bytes32 r, bytes32 s, uint8 v) public view {
        bytes memory sig = abi.encodePacked(r, s, v);
        (address expected, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, sig);
        assertEq(h.recover(digest, sig), err == ECDSA.RecoverError.NoError ? expected : address(0));
    }

    function testFuzz_recoverRealSignatures(uint256 key, bytes32 digest) public view {
        key = bound(key, 1, type(uint128).max);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        assertEq(h.recover(digest, abi.encodePacked(r, s, v)), vm.addr(key));
    }

    /// @dev Replay window model: any sequence of nonces is accepted exactly when a set-based model says so.
    function testFuzz_windowMatchesModel(uint64[12] memory raw) public {
        address resident = address(0xA11CE);
        uint64 highest;
        bool any;
        uint64[12] memory used;
        uint256 count;
        for (uint256 i; i < raw.length; ++i) {
            uint64 n = uint64(bound(raw[i], 0, 400));
            bool seen;
            for (uint256 j; j < count; ++j) if (used[j] == n) seen = true;
            bool expected = !seen && (!any || n > highest || highest - n < 128);
            assertEq(h.use(resident, n), expected);
            if (expected) {
                used[count++] = n;
                if (!any || n > highest) highest = n;
                any = true;
            }
            assertEq(h.isNonceUsable(resident, n), false);
        }
    }
}
