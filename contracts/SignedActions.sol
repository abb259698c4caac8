// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ISignedActions} from "./ISignedActions.sol";
import {ResidentSlot} from "./Common.sol";

/// @title SignedActions
/// @notice Replay protection, deadlines and signature checks for residents' EIP-712 actions.
/// @dev Replay protection is a sliding window per resident (as in IPsec's anti-replay window):
/// `next` is one past the highest nonce used and an 88-bit bitmap marks the used nonces just
/// below it. A resident may therefore have up to 88 actions in flight, confirmed in any order,
/// and the whole state is 152 bits that share one storage slot ({ResidentSlot}) with the inheriting
/// contract's per-resident fields, so an action costs one warm SSTORE for replay protection.
/// Nonces only move `next` up and `next` never wraps: the top nonce, 2**64 - 1, is refused
/// ({SignedActionsNonceExhausted}), so a used nonce can never become usable again.
abstract contract SignedActions is EIP712, ISignedActions {
    /// @dev How many nonces below `next` stay usable: the width of `ResidentSlot.window`.
    uint64 internal constant _NONCE_WINDOW = 88;
    /// @notice Gas given to a smart account's ERC-1271 `isValidSignature`; bounds the worst case of a batch.
    uint256 public constant ERC1271_GAS_LIMIT = 75_000;

    /// @dev Each resident's {ResidentSlot}, packed by hand: Solidity copies a packed struct between
    /// storage and memory member by member (an SLOAD and an SSTORE per member, ~1,000 gas more).
    mapping(address resident => uint256 packed) private _residentSlots;

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc ISignedActions
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ISignedActions
    function isNonceUsable(address resident, uint64 nonce) external view returns (bool usable) {
        ResidentSlot memory slot = _readSlot(resident);
        return _checkNonce(slot, resident, nonce).length == 0;
    }

    /// @inheritdoc ISignedActions
    function nonceWindow(address resident) external view returns (uint64 next, uint128 window) {
        ResidentSlot memory slot = _readSlot(resident);
        return (slot.next, slot.window);
    }

    /// @dev The clock every check uses; virtual so tests can move it.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }

    /// @dev The resident's state, unpacked into memory with one SLOAD.
    function _readSlot(address resident) internal view returns (ResidentSlot memory slot) {
        uint256 word = _residentSlots[resident];
        // Each field is cut out of the word at its own offset: the casts keep exactly its bits.
        // forge-lint: disable-start(unsafe-typecast)
        slot.next = uint64(word);
        slot.window = uint88(word >> 64);
        slot.lastEnd = uint40(word >> 152);
        slot.day = uint24(word >> 192);
        slot.countToday = uint8(word >> 216);
        slot.amountToday = uint32(word >> 224);
        // forge-lint: disable-end(unsafe-typecast)
    }

    /// @dev Stores the resident's state with one SSTORE (same layout as a packed ResidentSlot).
    function _writeSlot(address resident, ResidentSlot memory slot) internal {
        _residentSlots[resident] = uint256(slot.next) | (uint256(slot.window) << 64) | (uint256(slot.lastEnd) << 152)
            | (uint256(slot.day) << 192) | (uint256(slot.countToday) << 216) | (uint256(slot.amountToday) << 224);
    }

    /// @dev Moves `slot` (in memory) to the day of `time`: zeroes both daily counters when that day is
    /// not the slot's. `time` is when the counted action took place (now, or a session's start).
    function _rollDay(ResidentSlot memory slot, uint64 time) internal pure {
        // Days since 1970 fit 24 bits until the year 45,000.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint24 today = uint24(time / 1 days);
        if (slot.day != today) {
            slot.day = today;
            slot.countToday = 0;
            slot.amountToday = 0;
        }
    }

    /// @dev Returns the ABI-encoded error that rejects `nonce`, or empty bytes when it is usable.
    /// An unset `bytes memory` points at the zero slot, so the common, passing case allocates nothing.
    /// The top nonce is refused: using it would set `next` to 2**64, which wraps to 0 in 64 bits and
    /// would make every used nonce usable again.
    function _checkNonce(ResidentSlot memory slot, address resident, uint64 nonce)
        internal
        pure
        returns (bytes memory reason)
    {
        if (nonce >= slot.next) {
            if (nonce == type(uint64).max) {
                return abi.encodeWithSelector(SignedActionsNonceExhausted.selector, resident, nonce);
            }
            return reason;
        }
        // next > nonce here, so the subtraction cannot underflow.
        uint64 age = slot.next - 1 - nonce;
        if (age >= _NONCE_WINDOW) {
            return abi.encodeWithSelector(SignedActionsNonceTooOld.selector, resident, nonce, slot.next - _NONCE_WINDOW);
        }
        if (slot.window & (uint88(1) << age) != 0) {
            return abi.encodeWithSelector(SignedActionsNonceUsed.selector, resident, nonce);
        }
    }

    /// @dev Marks `nonce` used in `slot` (in memory); the caller has checked it with {_checkNonce}.
    function _useNonce(ResidentSlot memory slot, uint64 nonce) internal pure {
        if (nonce >= slot.next) {
            uint64 next;
            uint64 shift;
            // {_checkNonce} refused nonce 2**64 - 1, so nonce + 1 fits 64 bits; nonce >= slot.next,
            // so the subtraction cannot underflow.
            unchecked {
                next = nonce + 1;
                shift = next - slot.next;
            }
            // Shifting drops the bits of nonces that leave the window; shift < 88 fits uint8.
            // forge-lint: disable-next-line(unsafe-typecast)
            slot.window = shift >= _NONCE_WINDOW ? 1 : (slot.window << uint8(shift)) | 1;
            slot.next = next;
        } else {
            slot.window |= uint88(1) << (slot.next - 1 - nonce);
        }
    }

    /// @dev Returns the ABI-encoded error for an expired deadline or a bad signature, or empty bytes.
    function _checkSignature(address resident, bytes32 digest, uint64 deadline, bytes calldata signature)
        internal
        view
        returns (bytes memory reason)
    {
        uint64 now_ = _time();
        if (deadline < now_) return abi.encodeWithSelector(SignedActionsExpired.selector, deadline, now_);
        if (!_isValidSignature(resident, digest, signature)) {
            return abi.encodeWithSelector(SignedActionsInvalidSignature.selector, resident, digest);
        }
    }

    /// @dev ECDSA first, ERC-1271 only when that fails. OpenZeppelin's SignatureChecker asks for the
    /// signer's code size first, a cold account access (2,600 gas) on every resident of a batch;
    /// an ECDSA signature that recovers to the signer is valid whatever code the address has.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (signature.length == 65 && _recoverCalldata(digest, signature) == signer && signer != address(0)) return true;
        return _isValidERC1271Signature(signer, digest, signature);
    }

    /// @dev ecrecover of a 65-byte calldata signature `r ‖ s ‖ v` with OpenZeppelin ECDSA's rules
    /// (s in the lower half order, v 27 or 28), minus its layers of calls and error values, which cost
    /// ~500 gas per action on the batch path. Returns address(0) for anything ECDSA would reject;
    /// a fuzz test checks it against ECDSA.tryRecover.
    function _recoverCalldata(bytes32 digest, bytes calldata signature) internal view returns (address signer) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            let v := byte(0, calldataload(add(signature.offset, 0x40)))
            let s := calldataload(add(signature.offset, 0x20))
            mstore(m, digest)
            mstore(add(m, 0x20), v)
            calldatacopy(add(m, 0x40), signature.offset, 0x20)
            mstore(add(m, 0x60), s)
            let ok := and(
                lt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1), or(eq(v, 27), eq(v, 28))
            )
            // The precompile returns nothing on failure: then signer stays 0.
            if and(ok, staticcall(gas(), 0x01, m, 0x80, m, 0x20)) {
                if eq(returndatasize(), 0x20) { signer := mload(m) }
            }
        }
    }

    /// @dev ERC-1271 check with at most {ERC1271_GAS_LIMIT} gas and only the first 32 bytes of the
    /// answer copied, so one resident's wallet can neither exhaust a batch's gas nor bomb its memory.
    /// A call to an address without code succeeds with no return data and is rejected here.
    function _isValidERC1271Signature(address signer, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool valid)
    {
        bytes memory data = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bytes4 magic = IERC1271.isValidSignature.selector;
        uint256 gasLimit = ERC1271_GAS_LIMIT;
        assembly ("memory-safe") {
            let ok := staticcall(gasLimit, signer, add(data, 0x20), mload(data), 0x00, 0x20)
            valid := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), magic)))
        }
    }
}
