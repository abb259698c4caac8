// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Test} from "forge-std/Test.sol";
import {ISignedActions} from "../../contracts/ISignedActions.sol";
import {SignedActions} from "../../contracts/SignedActions.sol";
import {ResidentSlot} from "../../contracts/Common.sol";

contract SignedActionsHarness is SignedActions {
    constructor() SignedActions("Harness", "1") {}

    function recover(bytes32 digest, bytes calldata signature) external view returns (address) {
        return _recoverCalldata(digest, signature);
    }

    function windowSize() external pure returns (uint64) {
        return _NONCE_WINDOW;
    }

    function checkNonce(address resident, uint64 nonce) external view returns (bytes memory) {
        return _checkNonce(_readSlot(resident), resident, nonce);
    }

    /// @dev Sets every non-replay field of the slot, to check the nonce code leaves them alone.
    function setCounters(address resident, uint40 lastEnd, uint24 day, uint8 countToday, uint32 amountToday) external {
        ResidentSlot memory slot = _readSlot(resident);
        (slot.lastEnd, slot.day, slot.countToday, slot.amountToday) = (lastEnd, day, countToday, amountToday);
        _writeSlot(resident, slot);
    }

    function slotOf(address resident) external view returns (ResidentSlot memory) {
        return _readSlot(resident);
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
            bool expected = !seen && (!any || n > highest || highest - n < 88);
            assertEq(h.use(resident, n), expected);
            if (expected) {
                used[count++] = n;
                if (!any || n > highest) highest = n;
                any = true;
            }
            assertEq(h.isNonceUsable(resident, n), false);
        }
    }

    function test_windowIs88Nonces() public {
        address resident = address(0xA11CE);
        assertEq(h.windowSize(), 88);
        assertTrue(h.use(resident, 100));
        assertTrue(h.isNonceUsable(resident, 13)); // 101 - 88: the oldest usable nonce
        assertEq(h.checkNonce(resident, 12), abi.encodeWithSelector(ISignedActions.SignedActionsNonceTooOld.selector, resident, 12, 13));
        assertTrue(h.use(resident, 13));
        (uint64 next, uint128 window) = h.nonceWindow(resident);
        assertEq(next, 101);
        assertEq(window, 1 | (uint128(1) << 87));
        assertTrue(h.use(resident, 101)); // slides the window: nonce 13 drops out of it
        (, window) = h.nonceWindow(resident);
        assertEq(window, 1 | 2);
        assertFalse(h.isNonceUsable(resident, 13));
    }

    /// @dev The nonce fields and the contract's own fields share one word without spilling into each other.
    function testFuzz_slotFieldsIndependent(uint64 nonce, uint40 lastEnd, uint24 day, uint8 count, uint32 amount) public {
        nonce = uint64(bound(nonce, 0, type(uint64).max - 1));
        address resident = address(0xA11CE);
        h.setCounters(resident, lastEnd, day, count, amount);
        assertTrue(h.use(resident, nonce));
        ResidentSlot memory slot = h.slotOf(resident);
        assertEq(slot.next, nonce + 1);
        assertEq(slot.window, 1);
        assertEq(slot.lastEnd, lastEnd);
        assertEq(slot.day, day);
        assertEq(slot.countToday, count);
        assertEq(slot.amountToday, amount);
    }

    function test_topNonceRefused() public {
        address resident = address(0xA11CE);
        uint64 top = type(uint64).max;
        bytes memory exhausted = abi.encodeWithSelector(ISignedActions.SignedActionsNonceExhausted.selector, resident, top);
        assertEq(h.checkNonce(resident, top), exhausted);
        assertFalse(h.isNonceUsable(resident, top));
        assertTrue(h.use(resident, 5));
        // Nonce 2**64 - 1 would set next to 2**64, which is 0 in 64 bits: nonce 5 would be usable again.
        assertFalse(h.use(resident, top));
        assertFalse(h.isNonceUsable(resident, 5));
        assertFalse(h.use(resident, 5));
        // The nonce just below the top is fine; afterwards the resident can use nothing more, ever.
        assertTrue(h.use(resident, top - 1));
        (uint64 next,) = h.nonceWindow(resident);
        assertEq(next, top);
        assertEq(h.checkNonce(resident, top), exhausted);
        assertFalse(h.use(resident, top - 1));
    }

    /// @dev No sequence of nonces, however close to 2**64, makes a used nonce usable again. Each nonce is
    /// either small, within 90 of the top, or anything.
    function testFuzz_usedNonceNeverUsableAgain(uint64[16] memory raw, uint8[16] memory kinds) public {
        address resident = address(0xA11CE);
        uint64[16] memory used;
        uint256 count;
        for (uint256 i; i < raw.length; ++i) {
            uint64 n = raw[i];
            if (kinds[i] % 3 == 0) n = type(uint64).max - (n % 90);
            else if (kinds[i] % 3 == 1) n %= 400;
            if (h.use(resident, n)) used[count++] = n;
            for (uint256 j; j < count; ++j) {
                assertFalse(h.isNonceUsable(resident, used[j]));
                assertFalse(h.use(resident, used[j]));
            }
        }
    }
}
