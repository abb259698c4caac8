// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ISignedActions} from "./ISignedActions.sol";

/// @title SignedActions
/// @notice Replay protection, deadlines and signature checks for residents' EIP-712 actions.
/// @dev Replay protection is a sliding window per resident (as in IPsec's anti-replay window):
/// `next` is one past the highest nonce used and a 128-bit bitmap marks the used nonces just
/// below it. A resident may therefore have up to 128 actions in flight, confirmed in any order,
/// and the whole state is 192 bits that share one storage slot with the inheriting contract's
/// per-resident counters, so an action costs one warm SSTORE for replay protection.
abstract contract SignedActions is EIP712, ISignedActions {
    /// @dev How many nonces below `next` stay usable.
    uint64 internal constant _NONCE_WINDOW = 128;

    /// @dev Per-resident state: the replay window plus 64 bits for the inheriting contract.
    struct ResidentSlot {
        uint64 next;
        uint128 window;
        uint24 day;
        uint8 countToday;
        uint32 amountToday;
    }

    mapping(address resident => ResidentSlot) internal _slots;

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @inheritdoc ISignedActions
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ISignedActions
    function isNonceUsable(address resident, uint64 nonce) external view returns (bool usable) {
        ResidentSlot memory slot = _slots[resident];
        return _checkNonce(slot, resident, nonce).length == 0;
    }

    /// @inheritdoc ISignedActions
    function nonceWindow(address resident) external view returns (uint64 next, uint128 window) {
        ResidentSlot memory slot = _slots[resident];
        return (slot.next, slot.window);
    }

    /// @dev The clock every check uses; virtual so tests can move it.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }

    /// @dev Returns the ABI-encoded error that rejects `nonce`, or empty bytes when it is usable.
    function _checkNonce(ResidentSlot memory slot, address resident, uint64 nonce) internal pure returns (bytes memory) {
        if (nonce >= slot.next) return "";
        // next > nonce here, so the subtraction cannot underflow.
        uint64 age = slot.next - 1 - nonce;
        if (age >= _NONCE_WINDOW) {
            return abi.encodeWithSelector(SignedActionsNonceTooOld.selector, resident, nonce, slot.next - _NONCE_WINDOW);
        }
        if (slot.window & (uint128(1) << age) != 0) {
            return abi.encodeWithSelector(SignedActionsNonceUsed.selector, resident, nonce);
        }
        return "";
    }

    /// @dev Marks `nonce` used in `slot` (in memory); the caller has checked it with {_checkNonce}.
    function _useNonce(ResidentSlot memory slot, uint64 nonce) internal pure {
        if (nonce >= slot.next) {
            // nonce < 2**64 - 1 in practice; nonce + 1 is computed in uint256 to stay safe at the top.
            uint256 shift = uint256(nonce) + 1 - slot.next;
            // Shifting drops the bits of nonces that leave the window; shift < 128 fits uint8.
            // forge-lint: disable-next-line(unsafe-typecast)
            slot.window = shift >= _NONCE_WINDOW ? 1 : (slot.window << uint8(shift)) | 1;
            slot.next = uint64(uint256(nonce) + 1);
        } else {
            slot.window |= uint128(1) << (slot.next - 1 - nonce);
        }
    }

    /// @dev Returns the ABI-encoded error for an expired deadline or a bad signature, or empty bytes.
    function _checkSignature(address resident, bytes32 digest, uint64 deadline, bytes calldata signature)
        internal
        view
        returns (bytes memory)
    {
        uint64 now_ = _time();
        if (deadline < now_) return abi.encodeWithSelector(SignedActionsExpired.selector, deadline, now_);
        if (!_isValidSignature(resident, digest, signature)) {
            return abi.encodeWithSelector(SignedActionsInvalidSignature.selector, resident, digest);
        }
        return "";
    }

    /// @dev ECDSA first, ERC-1271 only when that fails. OpenZeppelin's SignatureChecker asks for the
    /// signer's code size first, a cold account access (2,600 gas) on every resident of a batch;
    /// an ECDSA signature that recovers to the signer is valid whatever code the address has.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }
}
