"""The consensus encodings a bundle is checked with: block headers, receipts, transactions, and
Merkle-Patricia proofs of the latter two in their block's tries.

Everything here works on the node's JSON shapes (hex strings) and recomputes hashes itself, so a
check never relies on the hashes the node reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak
from trie.exceptions import BadTrieProof
from trie.hexary import HexaryTrie

from ._errors import BundleError

# The header's fields in RLP order. The first 15 are in every header; each later one was added by a
# fork (London, Shanghai, Cancun (three), Prague) and is present exactly when the block is of that fork,
# always as a prefix of this list.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "bytes"),
    ("sha3Uncles", "bytes"),
    ("miner", "bytes"),
    ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"),
    ("receiptsRoot", "bytes"),
    ("logsBloom", "bytes"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "bytes"),
    ("nonce", "bytes"),
)
OPTIONAL_HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("baseFeePerGas", "int"),  # London
    ("withdrawalsRoot", "bytes"),  # Shanghai
    ("blobGasUsed", "int"),  # Cancun
    ("excessBlobGas", "int"),
    ("parentBeaconBlockRoot", "bytes"),
    ("requestsHash", "bytes"),  # Prague
)


def _rlp(item: Any) -> bytes:
    return bytes(rlp.encode(item))


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BundleError("malformed", f"{what} is not 0x-hex: {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise BundleError("malformed", f"{what} is not 0x-hex: {value!r}") from None


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BundleError("malformed", f"{what} is not a 0x-hex quantity: {value!r}")
    try:
        return int(value, 16) if value != "0x" else 0
    except ValueError:
        raise BundleError("malformed", f"{what} is not a 0x-hex quantity: {value!r}") from None


def header_fields(block: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a block (as `eth_getBlockByNumber` answers) that its hash covers, plus `hash`."""
    out = {name: block[name] for name, _ in HEADER_FIELDS}
    for name, _ in OPTIONAL_HEADER_FIELDS:
        if block.get(name) is None:
            break
        out[name] = block[name]
    out["hash"] = block["hash"]
    return out


def header_hash(header: Mapping[str, Any]) -> str:
    """keccak256 of the RLP of the header: the block hash, recomputed from its fields."""
    items: list[Any] = []
    for name, kind in HEADER_FIELDS:
        if name not in header:
            raise BundleError("malformed", f"the header has no {name}")
        value = header[name]
        items.append(_int(value, name) if kind == "int" else _bytes(value, name))
    absent = None
    for name, kind in OPTIONAL_HEADER_FIELDS:
        if header.get(name) is None:
            absent = absent or name
            continue
        if absent is not None:
            raise BundleError("malformed", f"the header has {name} but not {absent}, which comes before it")
        value = header[name]
        items.append(_int(value, name) if kind == "int" else _bytes(value, name))
    return "0x" + keccak(_rlp(items)).hex()


def _log_items(log: Mapping[str, Any]) -> list[Any]:
    return [
        _bytes(log["address"], "log address"),
        [_bytes(t, "log topic") for t in log["topics"]],
        _bytes(log["data"], "log data"),
    ]


def encode_receipt(receipt: Mapping[str, Any]) -> bytes:
    """The receipt as its block's receipts trie holds it (EIP-2718: the type byte, then the RLP)."""
    if receipt.get("root") not in (None, "0x"):  # pre-Byzantium: the post-state root instead of status
        outcome: Any = _bytes(receipt["root"], "receipt root")
    else:
        outcome = _int(receipt["status"], "receipt status")
    body = _rlp(
        [
            outcome,
            _int(receipt["cumulativeGasUsed"], "cumulativeGasUsed"),
            _bytes(receipt["logsBloom"], "logsBloom"),
            [_log_items(log) for log in receipt["logs"]],
        ]
    )
    kind = _int(receipt.get("type", "0x0"), "receipt type")
    return body if kind == 0 else bytes([kind]) + body


def _access_list(tx: Mapping[str, Any]) -> list[Any]:
    return [
        [_bytes(e["address"], "access list address"), [_bytes(k, "storage key") for k in e["storageKeys"]]]
        for e in tx.get("accessList") or []
    ]


def _y_parity(tx: Mapping[str, Any]) -> int:
    if tx.get("yParity") is not None:
        return _int(tx["yParity"], "yParity")
    return _int(tx["v"], "v")


def encode_transaction(tx: Mapping[str, Any]) -> bytes:
    """The signed transaction's consensus encoding; its keccak256 is the transaction hash."""
    kind = _int(tx.get("type", "0x0"), "transaction type")
    to = _bytes(tx["to"], "to") if tx.get("to") else b""
    data = _bytes(tx.get("input", tx.get("data", "0x")), "input")
    n, gas, value = _int(tx["nonce"], "nonce"), _int(tx["gas"], "gas"), _int(tx["value"], "value")
    signature = [_y_parity(tx), _int(tx["r"], "r"), _int(tx["s"], "s")]
    if kind == 0:
        return _rlp(
            [n, _int(tx["gasPrice"], "gasPrice"), gas, to, value, data, _int(tx["v"], "v"), *signature[1:]]
        )
    chain = _int(tx["chainId"], "chainId")
    if kind == 1:
        fields = [chain, n, _int(tx["gasPrice"], "gasPrice"), gas, to, value, data, _access_list(tx)]
    elif kind in (2, 3, 4):
        fees = [
            _int(tx["maxPriorityFeePerGas"], "maxPriorityFeePerGas"),
            _int(tx["maxFeePerGas"], "maxFeePerGas"),
        ]
        fields = [chain, n, *fees, gas, to, value, data, _access_list(tx)]
        if kind == 3:
            fields += [
                _int(tx["maxFeePerBlobGas"], "maxFeePerBlobGas"),
                [_bytes(h, "blob hash") for h in tx["blobVersionedHashes"]],
            ]
        if kind == 4:
            fields.append(
                [
                    [
                        _int(a["chainId"], "authorization chainId"),
                        _bytes(a["address"], "authorization address"),
                        _int(a["nonce"], "authorization nonce"),
                        _int(a["yParity"], "authorization yParity"),
                        _int(a["r"], "authorization r"),
                        _int(a["s"], "authorization s"),
                    ]
                    for a in tx["authorizationList"]
                ]
            )
    else:
        raise BundleError("malformed", f"transaction type {kind} is not one this checker knows")
    return bytes([kind]) + _rlp(fields + signature)


def transaction_chain_id(tx: Mapping[str, Any]) -> int | None:
    """The chain id the transaction was signed for (EIP-155 for legacy ones), if any."""
    if _int(tx.get("type", "0x0"), "transaction type") != 0:
        return _int(tx["chainId"], "chainId")
    v = _int(tx["v"], "v")
    return (v - 35) // 2 if v >= 35 else None


def trie_key(index: int) -> bytes:
    return _rlp(index)


def build_proof(values: Sequence[bytes], index: int) -> tuple[str, list[str]]:
    """The root of the trie of `values` keyed by rlp(position), and the proof of `values[index]`:
    every node on the path, each RLP-encoded."""
    t = HexaryTrie({})
    for i, value in enumerate(values):
        t[trie_key(i)] = value
    nodes = t.get_proof(trie_key(index))  # type: ignore[no-untyped-call]
    return "0x" + t.root_hash.hex(), ["0x" + _rlp(node).hex() for node in nodes]


def proven_value(root: str, index: int, proof: Sequence[str], what: str) -> bytes:
    """The value the proof shows at rlp(index) under `root`; BundleError if the proof does not verify."""
    try:
        nodes = tuple(rlp.decode(_bytes(n, f"{what} proof node")) for n in proof)
        value = HexaryTrie.get_from_proof(  # type: ignore[no-untyped-call]
            _bytes(root, f"{what} root"), trie_key(index), nodes
        )
    except BadTrieProof as exc:
        raise BundleError(
            "not-in-block", f"the {what} proof does not verify against the header: {exc}"
        ) from None
    except (rlp.DecodingError, rlp.DeserializationError, ValueError, TypeError, IndexError) as exc:
        raise BundleError("malformed", f"the {what} proof is not a trie proof: {exc}") from None
    if not value:
        raise BundleError("not-in-block", f"the {what} proof shows no entry at index {index}")
    return bytes(value)
