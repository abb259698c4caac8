// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Base} from "../Base.t.sol";
import {BatchMerkle} from "../../../contracts/utils/BatchMerkle.sol";

contract BatchMerkleTest is Base {
    /// @dev The on-chain root matches the reference tree, and every leaf's proof verifies with OZ MerkleProof.
    function testFuzz_rootAndProofs(uint8 count, uint256 seed) public pure {
        uint256 n = bound(count, 1, 100);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
        bytes32[] memory work = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            work[i] = leaves[i];
        }
        bytes32 root = BatchMerkle.root(work, n);
        for (uint256 i; i < n; i += 1 + n / 8) {
            (bytes32 ref, bytes32[] memory proof) = merkle(leaves, i);
            assertEq(ref, root);
            assertTrue(MerkleProof.verify(proof, root, leaves[i]));
        }
    }
}
