"""ledger.merkle against @openzeppelin/merkle-tree 1.0.8, the JS library the contracts' trees follow.

The vectors below were produced by that library (`StandardMerkleTree.of(values, encoding)`: `root`,
`getProof(i)`, `dump().values[i].treeIndex`) from the inputs `_values` builds here. Proofs verifying
in the contract itself: tests/chain/test_bonus_tree.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from ledger.merkle import StandardMerkleTree, leaf_hash, process_proof

ENCODING = ("address", "uint256")
AMOUNTS = [40, 1, 2**128 - 1, 10**18, 2**256 - 1, 7, 12345678901234567890, 3, 999, 5, 6, 8, 250]

# leaves → (root, treeIndex of each value)
GOLDEN: dict[int, tuple[str, list[int]]] = {
    1: ("0x0844081bd8be7ad6d4cc640b924bd60544fce536ac6b978456d8aa9a290ebfb4", [0]),
    2: ("0x56da13e0a56e134ec1837d7b2c1c65ec40a771c9515a302e0ae69659adc1cf1f", [2, 1]),
    3: ("0x38a1c6b7c4d262c0b401698e4359d9d0c711ff76ab9b0564215f35d318fe275e", [4, 2, 3]),
    4: ("0x265c39c8f3c82667f4c166bab1031dd8cfd1ca83acc7c0576c3a4a030a7e5ec1", [5, 3, 4, 6]),
    5: ("0xf1a64922e235083cdd8c2a33ba1206845b294cc9ad3c11a843da6996cedc9be2", [7, 5, 6, 8, 4]),
    7: ("0x00a57d6339476fdeacef448591204c53449b65e992d6981d06fbfd5ab45bff9b", [11, 9, 10, 12, 6, 8, 7]),
    8: ("0x9476b12d80ab7d9d05654e2d81a5698a327dc578b76c4fbce31afe87905fbd31", [13, 11, 12, 14, 7, 10, 8, 9]),
    13: (
        "0x0356e334ffa1460a5ae4ed30b4900582ec08fd759e6dd971b985d6efc003aa1e",
        [23, 18, 21, 24, 12, 17, 13, 14, 19, 20, 16, 22, 15],
    ),
}
# (leaves, value index) → getProof(index)
GOLDEN_PROOFS: dict[tuple[int, int], list[str]] = {
    (1, 0): [],
    (3, 0): [
        "0x159079e1bb8cde693f27aba983ae4ce2583185f1e815f0732ecb82a1356bdba0",
        "0x538b119e98dca2fc4ddf82a6e8977feabe4c56508e5ef382aa134083d42d88db",
    ],
    (3, 1): ["0xd7584c9e55b269d972473a45afaf6a7b2c7c16f8312222e58505f5bb71a71a31"],
    (3, 2): [
        "0x0844081bd8be7ad6d4cc640b924bd60544fce536ac6b978456d8aa9a290ebfb4",
        "0x538b119e98dca2fc4ddf82a6e8977feabe4c56508e5ef382aa134083d42d88db",
    ],
    (13, 4): [
        "0x6510dd7a11dc8e18a87cce90f340dd19f27cd310c480e77616f772858f663ede",
        "0xe7b68e361ec9dde1cfb0b50ed26bba91e21367a6f536ed31744e0567b1a4a4dc",
        "0xaf69ff3d22fc32287b5903a8ac52b850ca1dc61807be9f90ec9d532917be2c36",
    ],
    (13, 12): [
        "0xb6acdb130d66fe58aea6999d7096a41e14e4f4755e29b2bbcb9ab805870297dd",
        "0x13dec9b6af116b27d8f260924c924bfe203919f64efc6451b879428be63ba4fd",
        "0x3620a1ef11787e5588de9ee192609b4f455dad48fce2d3bea8e6f4243f9a7fe2",
        "0x0bd2a69a3dd11b5f023a19619e2628b5e249ddee185a91fed41ad172a94a7ea9",
    ],
}
MIXED_ENCODING = ("bytes32", "bool", "string", "int256")
MIXED_ROOT = "0x5e1885190b749f7c4331499c7e04fb1fb32fa719f52293072723d6142bc8cf77"


def _address(i: int) -> str:
    return to_checksum_address(keccak(f"resident {i}".encode())[:20])


def _values(n: int) -> list[tuple[str, int]]:
    return [(_address(i), AMOUNTS[i]) for i in range(n)]


def _mixed() -> list[tuple[Any, ...]]:
    return [
        (keccak(b"a"), True, "plogging", -5),
        (keccak(b"b"), False, "", 0),
        (keccak(b"c"), True, "한국어 텍스트", 2**255 - 1),
    ]


@pytest.mark.parametrize("n", sorted(GOLDEN))
def test_root_and_layout_equal_the_js_library(n: int) -> None:
    tree = StandardMerkleTree.of(_values(n), ENCODING)
    root, tree_indices = GOLDEN[n]
    assert tree.root == root
    assert [tree.tree_index(i) for i in range(n)] == tree_indices
    for i, value in enumerate(_values(n)):
        assert StandardMerkleTree.verify(root, ENCODING, value, tree.proof(i))


@pytest.mark.parametrize(("n", "index"), sorted(GOLDEN_PROOFS))
def test_proofs_equal_the_js_library(n: int, index: int) -> None:
    tree = StandardMerkleTree.of(_values(n), ENCODING)
    assert tree.proof(index) == GOLDEN_PROOFS[n, index]
    assert tree.proof_for(_values(n)[index]) == GOLDEN_PROOFS[n, index]


def test_other_leaf_types_equal_the_js_library() -> None:
    tree = StandardMerkleTree.of(_mixed(), MIXED_ENCODING)
    assert tree.root == MIXED_ROOT
    assert [tree.tree_index(i) for i in range(3)] == [2, 4, 3]


def test_a_single_leaf_is_its_own_root() -> None:
    (value,) = _values(1)
    tree = StandardMerkleTree.of([value], ENCODING)
    # what RewardCampaigns checks for a one-resident bonus: keccak256(bytes.concat(keccak256(abi.encode(..))))
    assert tree.root == "0x" + leaf_hash(ENCODING, value).hex() == tree.leaf(0)
    assert tree.proof(0) == []


def test_dump_is_the_js_standard_v1_format() -> None:
    dump = StandardMerkleTree.of(_mixed(), MIXED_ENCODING).dump()
    assert dump["format"] == "standard-v1"
    assert dump["leafEncoding"] == list(MIXED_ENCODING)
    assert dump["tree"][0] == MIXED_ROOT and len(dump["tree"]) == 5
    assert dump["values"][2] == {
        "value": ["0x" + keccak(b"c").hex(), True, "한국어 텍스트", str(2**255 - 1)],
        "treeIndex": 3,
    }


def test_input_order_changes_indices_not_the_root() -> None:
    values = _values(7)
    reordered = StandardMerkleTree.of(values[::-1], ENCODING)
    assert reordered.root == GOLDEN[7][0]
    assert reordered.proof(0) == StandardMerkleTree.of(values, ENCODING).proof(6)


def test_refusals() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        StandardMerkleTree.of([], ENCODING)
    tree = StandardMerkleTree.of(_values(3), ENCODING)
    with pytest.raises(IndexError):
        tree.proof(3)
    with pytest.raises(ValueError, match="not a leaf"):
        tree.proof_for((_address(0), 41))
    with pytest.raises(ValueError, match="32-byte"):
        StandardMerkleTree.verify(tree.root, ENCODING, _values(3)[0], ["0x1234"])


allocations = st.dictionaries(
    st.binary(min_size=20, max_size=20).map(to_checksum_address),
    st.integers(min_value=1, max_value=2**128 - 1),
    min_size=1,
    max_size=40,
)


@given(allocations)
def test_every_proof_verifies_and_a_changed_amount_does_not(allocation: dict[str, int]) -> None:
    values = list(allocation.items())
    tree = StandardMerkleTree.of(values, ENCODING)
    depth = (2 * len(values) - 2).bit_length()
    for i, (resident, amount) in enumerate(values):
        proof = tree.proof(i)
        assert len(proof) <= depth
        leaf = leaf_hash(ENCODING, (resident, amount))
        assert "0x" + process_proof(leaf, [bytes.fromhex(p[2:]) for p in proof]).hex() == tree.root
        assert StandardMerkleTree.verify(tree.root, ENCODING, (resident, amount), proof)
        assert not StandardMerkleTree.verify(tree.root, ENCODING, (resident, amount + 1), proof)
