"""The consensus encodings `ledger.verify` checks bundles with, against real anvil blocks: the header's
RLP hashes to the block hash (with the fork's optional fields), and the receipts and transactions of a
block (legacy, EIP-2930 and EIP-1559 transactions) rebuild its roots; a proof shows one entry only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from ledger.chain.rpc import HttpRpc
from ledger.node import AnvilNode
from ledger.verify import BundleError, encode_receipt, encode_transaction, header_fields, header_hash
from ledger.verify._encoding import build_proof, proven_value, transaction_chain_id

from ..support import free_port

# anvil's first dev account (its well-known test key)
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(scope="module")
def chain() -> Iterator[HttpRpc]:
    """Blocks holding one, then three transactions of different types; anvil mines on demand."""
    with AnvilNode(port=free_port(), block_time=0, extra_args=("--no-mining",)) as node:
        rpc = HttpRpc(node.url)
        sender = Account.from_key(KEY)
        gas_price = int(rpc.call("eth_gasPrice"), 16) * 2
        to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        txs: list[dict[str, Any]] = [
            {"type": 2, "maxFeePerGas": gas_price, "maxPriorityFeePerGas": 1, "chainId": 31337},
            {"gasPrice": gas_price, "chainId": 31337},  # legacy, EIP-155
            {
                "type": 1,
                "gasPrice": gas_price,
                "chainId": 31337,
                "accessList": [{"address": to, "storageKeys": ["0x" + "00" * 31 + "01"]}],
            },
            {
                "type": 2,
                "maxFeePerGas": gas_price,
                "maxPriorityFeePerGas": 2,
                "chainId": 31337,
                "data": "0x1234",
            },
        ]
        for i, extra in enumerate(txs):
            tx = {"to": to, "value": i + 1, "gas": 60_000, "nonce": i, **extra}
            rpc.call("eth_sendRawTransaction", ["0x" + sender.sign_transaction(tx).raw_transaction.hex()])
            if i == 0:
                rpc.call("evm_mine")  # block 1: one transaction; block 2: the other three
        rpc.call("evm_mine")
        rpc.call("evm_mine")  # block 3: empty
        yield rpc


def test_header_rlp_hashes_to_the_block_hash(chain: HttpRpc) -> None:
    for number in range(4):
        block = chain.call("eth_getBlockByNumber", [hex(number), False])
        header = header_fields(block)
        assert "requestsHash" in header  # anvil's default hardfork (Prague): every optional field
        assert header_hash(header) == block["hash"]
        changed = {**header, "timestamp": hex(int(header["timestamp"], 16) + 1)}
        assert header_hash(changed) != block["hash"]


def test_a_header_of_an_older_fork_hashes_without_later_fields_and_a_gap_is_refused(chain: HttpRpc) -> None:
    block = chain.call("eth_getBlockByNumber", ["0x1", False])
    header = header_fields(block)
    london = {
        k: v
        for k, v in header.items()
        if k
        not in ("withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash")
    }
    assert header_hash(london) != header_hash(header)  # fewer fields: another RLP list
    gap = {k: v for k, v in header.items() if k != "withdrawalsRoot"}
    with pytest.raises(BundleError) as caught:
        header_hash(gap)
    assert caught.value.reason == "malformed" and "withdrawalsRoot" in str(caught.value)


def test_receipts_and_transactions_rebuild_the_roots_and_prove_each_entry(chain: HttpRpc) -> None:
    for number in (1, 2):
        block = chain.call("eth_getBlockByNumber", [hex(number), True])
        receipts = chain.call("eth_getBlockReceipts", [hex(number)])
        raw_receipts = [encode_receipt(r) for r in receipts]
        raw_txs = [encode_transaction(t) for t in block["transactions"]]
        assert ["0x" + keccak(raw).hex() for raw in raw_txs] == [t["hash"] for t in block["transactions"]]
        for i in range(len(receipts)):
            root, proof = build_proof(raw_receipts, i)
            assert root == block["receiptsRoot"]
            assert proven_value(root, i, proof, "receipt") == raw_receipts[i]
            troot, tproof = build_proof(raw_txs, i)
            assert troot == block["transactionsRoot"]
            assert proven_value(troot, i, tproof, "transaction") == raw_txs[i]
            assert transaction_chain_id(block["transactions"][i]) == 31337
    block = chain.call("eth_getBlockByNumber", ["0x2", True])
    assert sorted(int(t["type"], 16) for t in block["transactions"]) == [0, 1, 2]
    raw = [encode_receipt(r) for r in chain.call("eth_getBlockReceipts", ["0x2"])]
    root, proof = build_proof(raw, 1)
    with pytest.raises(BundleError) as caught:  # the proof of entry 1 shows nothing at entry 2
        proven_value(root, 2, proof, "receipt")
    assert caught.value.reason == "not-in-block"
    with pytest.raises(BundleError):  # nor does it lead from another block's root
        proven_value(chain.call("eth_getBlockByNumber", ["0x1", False])["receiptsRoot"], 1, proof, "receipt")
