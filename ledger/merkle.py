"""OpenZeppelin's StandardMerkleTree (the `@openzeppelin/merkle-tree` JS library), bit for bit.

A leaf is keccak256(keccak256(abi.encode(types, value))); leaves are sorted by hash and laid out in
reverse at the end of an array that holds a complete binary tree (node i has children 2i+1 and 2i+2,
the root at 0); a node is keccak256 of its two children in ascending order, which is what
`MerkleProof.verify` in the contracts recomputes. `values` keep the order they were given in, so
`proof(i)` means the same `i` as the JS `getProof(i)`, and `dump()` is its `standard-v1` format,
which `StandardMerkleTree.load` accepts: partners can check a published tree with either library.
Multiproofs are not implemented.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode
from eth_hash.auto import keccak

__all__ = ["StandardMerkleTree", "leaf_hash", "node_hash", "process_proof"]


def leaf_hash(types: Sequence[str], value: Sequence[Any]) -> bytes:
    """The double keccak of the value's ABI encoding (no second-preimage with a 64-byte node)."""
    return keccak(keccak(encode(list(types), list(value))))


def node_hash(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a <= b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from `leaf`: MerkleProof.processProof."""
    for sibling in proof:
        leaf = node_hash(leaf, sibling)
    return leaf


def _hex(node: bytes) -> str:
    return "0x" + node.hex()


def _bytes32(node: str) -> bytes:
    raw = bytes.fromhex(node.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected a 32-byte hex node, got {node!r}")
    return raw


def _json_value(x: Any) -> Any:
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return str(x)
    if isinstance(x, bytes):
        return _hex(x)
    return x


class StandardMerkleTree:
    """A tree over `values` (each a tuple matching `leaf_encoding`); build it with `of`."""

    def __init__(
        self,
        tree: list[bytes],
        values: list[tuple[Any, ...]],
        tree_indices: list[int],
        leaf_encoding: Sequence[str],
    ) -> None:
        self._tree = tree
        self.values = values
        self.leaf_encoding = tuple(leaf_encoding)
        self._tree_indices = tree_indices
        self._by_hash = {tree[t]: i for i, t in enumerate(tree_indices)}

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str]) -> StandardMerkleTree:
        if not values:
            raise ValueError("a Merkle tree needs at least one leaf")
        hashed = sorted(((leaf_hash(leaf_encoding, v), i) for i, v in enumerate(values)))
        n = len(hashed)
        tree = [b""] * (2 * n - 1)
        tree_indices = [0] * n
        for position, (h, value_index) in enumerate(hashed):
            tree_indices[value_index] = len(tree) - 1 - position
            tree[len(tree) - 1 - position] = h
        for i in range(n - 2, -1, -1):
            tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
        return cls(tree, [tuple(v) for v in values], tree_indices, leaf_encoding)

    @property
    def root(self) -> str:
        return _hex(self._tree[0])

    def __len__(self) -> int:
        return len(self.values)

    def tree_index(self, index: int) -> int:
        """Where value `index` sits in the node array (the dump's `treeIndex`)."""
        return self._tree_indices[index]

    def leaf(self, index: int) -> str:
        return _hex(self._tree[self._tree_indices[index]])

    def proof(self, index: int) -> list[str]:
        """The sibling hashes from value `index`'s leaf up to the root (as `getProof(index)`)."""
        if not 0 <= index < len(self.values):
            raise IndexError(f"no value {index} in a tree of {len(self.values)}")
        node, proof = self._tree_indices[index], []
        while node > 0:
            proof.append(_hex(self._tree[node - 1 if node % 2 == 0 else node + 1]))
            node = (node - 1) // 2
        return proof

    def index_of(self, value: Sequence[Any]) -> int:
        """The index of `value`; ValueError when it is not a leaf of this tree."""
        try:
            return self._by_hash[leaf_hash(self.leaf_encoding, value)]
        except KeyError:
            raise ValueError("the value is not a leaf of this tree") from None

    def proof_for(self, value: Sequence[Any]) -> list[str]:
        return self.proof(self.index_of(value))

    @staticmethod
    def verify(root: str, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[str]) -> bool:
        """Whether `proof` shows `value` under `root`, as the contracts' MerkleProof.verify decides."""
        leaf = leaf_hash(leaf_encoding, value)
        return process_proof(leaf, [_bytes32(p) for p in proof]) == _bytes32(root)

    def dump(self) -> dict[str, Any]:
        """The JS library's `standard-v1` JSON; integers as decimal strings, as it writes bigints."""
        return {
            "format": "standard-v1",
            "leafEncoding": list(self.leaf_encoding),
            "tree": [_hex(node) for node in self._tree],
            "values": [
                {"value": [_json_value(x) for x in v], "treeIndex": t}
                for v, t in zip(self.values, self._tree_indices, strict=True)
            ],
        }
