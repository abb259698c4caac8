// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BatchMerkle
/// @notice Builds, in memory and on-chain, the Merkle root that OpenZeppelin's `MerkleProof.verify`
/// checks proofs against: each parent is `keccak256` of its two children sorted (commutative hash).
/// @dev Level by level, leaves in order: nodes 2k and 2k+1 make parent k; an odd last node is carried
/// up unchanged (its proof has no element for that level). A single leaf is its own root.
/// The off-chain prover must build the same tree: docs/contracts.md spells the algorithm out.
library BatchMerkle {
    /// @notice The root over the first `count` entries of `nodes`, which it overwrites.
    /// @param nodes Leaves in order; at least `count` long. Overwritten with inner nodes.
    /// @param count Number of leaves, at least 1.
    function root(bytes32[] memory nodes, uint256 count) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let base := add(nodes, 0x20)
            for {} gt(count, 1) {} {
                let half := shr(1, count)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let a := mload(add(base, shl(6, i)))
                    let b := mload(add(base, add(shl(6, i), 0x20)))
                    // Sorted pair, as Hashes.commutativeKeccak256.
                    switch lt(a, b)
                    case 1 {
                        mstore(0x00, a)
                        mstore(0x20, b)
                    }
                    default {
                        mstore(0x00, b)
                        mstore(0x20, a)
                    }
                    mstore(add(base, shl(5, i)), keccak256(0x00, 0x40))
                }
                if and(count, 1) { mstore(add(base, shl(5, half)), mload(add(base, shl(5, sub(count, 1))))) }
                count := add(half, and(count, 1))
            }
            result := mload(base)
        }
    }
}
