"""Proof bundles: a record's log with everything needed to prove it offline (docs/audit.md).

A bundle holds, for the record's log and for each later event that changed its status: the log, the
transaction and the full receipt that carry it, Merkle-Patricia proofs of both in their block's
transactions and receipts tries, and the block header's fields. `check_bundle` recomputes the block
hash from the header, walks both proofs from the header's roots, finds the log in the proven receipt
and decodes it with the event's ABI fragment, which must be the event this ledger records the kind
with. The chain id comes from the proven (signed) transaction. Given a node, it asks the node one
thing only: the hash of the canonical block at that number (and the node's chain id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_hash.auto import keccak

from ..deploy import Deployment
from ..errors import RpcError
from . import _encoding as enc
from ._abi import decode_event, signature
from ._errors import BundleError, RecordNotFoundError, VerifyError
from ._node import (
    FEEDBACK_LATER,
    KIND_EVENTS,
    PLOGGING_LATER,
    PLOGGING_RECORDED_STATUS,
    SPEC_NAMES,
    SPECS,
    Node,
    as_deployment,
    get_logs,
    head,
    quantity,
    word,
)
from .records import record_log

__all__ = ["FORMAT", "BundleReport", "check_bundle", "make_bundle"]

FORMAT = "esg-ledger-proof-bundle/1"
_LOG_KEYS = (
    "address",
    "topics",
    "data",
    "blockNumber",
    "blockHash",
    "transactionHash",
    "transactionIndex",
    "logIndex",
)


def _fragment(d: Deployment, contract: str, event: str) -> dict[str, Any]:
    for item in d.contracts[contract].abi:
        if (
            item.get("type") == "event"
            and item.get("name") == event
            and signature(item) == SPECS[event].signature
        ):
            return dict(item)
    raise VerifyError(f"the deployment's ABI of {contract} has no event {SPECS[event].signature}")


class _Blocks:
    """Each block's header, transactions and receipts, fetched once while a bundle is made."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.cache: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}

    def get(self, block_hash: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if block_hash not in self.cache:
            block = self.node.call("eth_getBlockByHash", [block_hash, True])
            if block is None:
                raise VerifyError(f"the node no longer has block {block_hash} (a reorg?)")
            try:
                receipts = self.node.call("eth_getBlockReceipts", [block["number"]])
            except RpcError:  # a node without eth_getBlockReceipts
                receipts = [
                    self.node.call("eth_getTransactionReceipt", [t["hash"]]) for t in block["transactions"]
                ]
            if [r["blockHash"] for r in receipts] != [block_hash] * len(block["transactions"]):
                raise VerifyError(f"block {block_hash} changed while it was read (a reorg?)")
            self.cache[block_hash] = block, receipts
        return self.cache[block_hash]


def _prove(blocks: _Blocks, log: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    block, receipts = blocks.get(log["blockHash"])
    index = quantity(log["transactionIndex"])
    receipt = receipts[index]
    header = enc.header_fields(block)
    if enc.header_hash(header) != block["hash"]:
        raise VerifyError(f"block {block['hash']}: its fields do not hash to it (an unknown fork's header?)")
    receipts_root, receipt_proof = enc.build_proof([enc.encode_receipt(r) for r in receipts], index)
    txs_root, tx_proof = enc.build_proof([enc.encode_transaction(t) for t in block["transactions"]], index)
    if (receipts_root, txs_root) != (block["receiptsRoot"], block["transactionsRoot"]):
        raise VerifyError(f"block {block['hash']}: its receipts or transactions do not make its roots")
    position = [quantity(x["logIndex"]) for x in receipt["logs"]].index(quantity(log["logIndex"]))
    return {
        "event": fragment,
        "fields": decode_event(fragment, log["topics"], log["data"]),
        "log": {k: log[k] for k in _LOG_KEYS},
        "logPosition": position,
        "header": header,
        "transaction": block["transactions"][index],
        "transactionProof": tx_proof,
        "receipt": receipt,
        "receiptProof": receipt_proof,
    }


def _later_logs(
    node: Node, d: Deployment, kind: str, fields: Mapping[str, Any], log: dict[str, Any]
) -> list[Any]:
    start = quantity(log["blockNumber"])
    names: list[str]
    if kind == "plogging":
        names, contract, subject = list(PLOGGING_LATER), "PloggingRegistry", log["topics"][1]
    elif kind == "feedback":
        names, contract, subject = list(FEEDBACK_LATER), "FeedbackBox", word(int(fields["itemId"]))
    else:
        return []
    topics = [sorted(SPECS[n].topic0 for n in names), subject]
    return [
        (SPEC_NAMES[x["topics"][0]], contract, x) for x in get_logs(node, d.address(contract), topics, start)
    ]


def fold_status(
    kind: str, record: Mapping[str, Any], later: list[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """The status a record and its later events leave (`status`; feedback also `hidden`)."""
    if kind == "plogging":
        status = PLOGGING_RECORDED_STATUS.get(int(record["status"]), f"status {record['status']}")
        for name, _ in later:
            status = PLOGGING_LATER[name]
        return {"status": status}
    if kind == "feedback":
        out: dict[str, Any] = {"status": "submitted", "hidden": False}
        for name, f in later:
            if name == "FeedbackModerated":
                out["hidden"] = bool(f["hidden"])
            else:
                out["status"] = FEEDBACK_LATER[name]
        return out
    return {"status": "recorded"}


def make_bundle(
    node: Node, deployment: Deployment | Mapping[str, Any], digest: str, *, kind: str | None = None
) -> dict[str, Any]:
    """The proof bundle of the action with this digest (JSON-ready); RecordNotFoundError if none."""
    d = as_deployment(deployment)
    found = record_log(node, d, digest, kind)
    if found is None:
        raise RecordNotFoundError(digest)
    kind_name, log = found
    k = KIND_EVENTS[kind_name]
    blocks = _Blocks(node)
    record = _prove(blocks, log, _fragment(d, k.contract, k.event))
    later = [
        _prove(blocks, x, _fragment(d, contract, name))
        for name, contract, x in _later_logs(node, d, kind_name, record["fields"], log)
    ]
    return {
        "format": FORMAT,
        "chainId": d.chain_id,
        "kind": kind_name,
        "digest": digest.lower(),
        "contract": {"name": k.contract, "address": d.address(k.contract)},
        "record": record,
        "later": later,
        **fold_status(kind_name, record["fields"], [(p["event"]["name"], p["fields"]) for p in later]),
        "madeAtHead": head(node),
    }


@dataclass
class BundleReport:
    """What a passed check established. `canonical` is None when no node was asked."""

    kind: str
    digest: str
    chain_id: int
    contract: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    status: str
    fields: dict[str, Any]
    checked: list[str] = field(default_factory=list)
    canonical: bool | None = None
    confirmations: int | None = None
    not_checked: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _need(condition: bool, reason: str, message: str) -> None:
    if not condition:
        raise BundleError(reason, message)


def _check_proven(p: Mapping[str, Any], chain_id: int, address: str, what: str) -> None:
    header, log, tx, receipt = p["header"], p["log"], p["transaction"], p["receipt"]
    block_hash = enc.header_hash(header)
    _need(
        block_hash == str(header.get("hash", "")).lower(),
        "header-hash",
        f"{what}: the header's fields hash to {block_hash}, not to the stated {header.get('hash')}",
    )
    _need(
        str(log["blockHash"]).lower() == block_hash
        and quantity(log["blockNumber"]) == quantity(header["number"]),
        "not-in-block",
        f"{what}: the log names block {log['blockHash']}, the header is {block_hash}",
    )
    index = quantity(log["transactionIndex"])
    raw_tx = enc.encode_transaction(tx)
    tx_hash = "0x" + keccak(raw_tx).hex()
    _need(
        tx_hash == str(log["transactionHash"]).lower(),
        "not-in-block",
        f"{what}: the transaction hashes to {tx_hash}, the log names {log['transactionHash']}",
    )
    _need(
        enc.proven_value(header["transactionsRoot"], index, p["transactionProof"], "transaction") == raw_tx,
        "not-in-block",
        f"{what}: the transaction is not the one at index {index} of block {block_hash}",
    )
    signed_for = enc.transaction_chain_id(tx)
    _need(
        signed_for == chain_id,
        "chain-id",
        f"{what}: the transaction was signed for chain {signed_for}, the bundle says chain {chain_id}",
    )
    _need(
        enc.proven_value(header["receiptsRoot"], index, p["receiptProof"], "receipt")
        == enc.encode_receipt(receipt),
        "not-in-block",
        f"{what}: the receipt is not the one at index {index} of block {block_hash}",
    )
    _need(quantity(receipt["status"]) == 1, "not-in-block", f"{what}: the transaction reverted")
    position = int(p["logPosition"])
    logs = receipt["logs"]
    _need(0 <= position < len(logs), "log-mismatch", f"{what}: the receipt has no log at position {position}")
    held = logs[position]
    same = (
        str(held["address"]).lower() == str(log["address"]).lower()
        and [t.lower() for t in held["topics"]] == [t.lower() for t in log["topics"]]
        and str(held["data"]).lower() == str(log["data"]).lower()
    )
    _need(same, "log-mismatch", f"{what}: the log is not the receipt's log at position {position}")
    _need(
        str(log["address"]).lower() == address.lower(),
        "log-mismatch",
        f"{what}: the log was emitted by {log['address']}, not by the bundle's contract {address}",
    )
    fragment = p["event"]
    _need(
        keccak(signature(fragment).encode()).hex() == log["topics"][0][2:].lower(),
        "record-mismatch",
        f"{what}: the log is not a {signature(fragment)} event",
    )
    _need(
        decode_event(fragment, log["topics"], log["data"]) == p["fields"],
        "record-mismatch",
        f"{what}: the log decodes to other fields than the bundle states",
    )


def check_bundle(
    bundle: Mapping[str, Any],
    node: Node | None = None,
    *,
    deployment: Deployment | Mapping[str, Any] | None = None,
) -> BundleReport:
    """Checks a proof bundle; BundleError (with `.reason`) names the first thing that does not hold.

    Offline (no node) everything is checked except that the block is on the canonical chain. A
    deployment, if given, must name the bundle's contract for its kind.
    """
    try:
        return _check(bundle, node, deployment)
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise BundleError(
            "malformed", f"the bundle is not complete: {exc.__class__.__name__} {exc}"
        ) from None


def _check(
    bundle: Mapping[str, Any], node: Node | None, deployment: Deployment | Mapping[str, Any] | None
) -> BundleReport:
    _need(bundle.get("format") == FORMAT, "malformed", f"not a {FORMAT} bundle")
    kind = KIND_EVENTS.get(bundle["kind"])
    _need(kind is not None, "malformed", f"unknown kind {bundle['kind']!r}")
    assert kind is not None
    chain_id, address = int(bundle["chainId"]), str(bundle["contract"]["address"])
    checked = []
    record = bundle["record"]
    _need(
        signature(record["event"]) == SPECS[kind.event].signature,
        "record-mismatch",
        f"a {kind.kind} is recorded by {SPECS[kind.event].signature}, not {signature(record['event'])}",
    )
    _need(
        str(record["log"]["topics"][kind.digest_topic]).lower() == str(bundle["digest"]).lower(),
        "record-mismatch",
        f"the log records digest {record['log']['topics'][kind.digest_topic]}, not {bundle['digest']}",
    )
    _check_proven(record, chain_id, address, "record")
    checked += [
        "header hash recomputed from its fields",
        "transaction and receipt proven in the block's tries",
        f"signed for chain {chain_id}",
        f"log {record['logPosition']} of the receipt, emitted by {address}",
        f"decodes as {signature(record['event'])} with the stated fields and digest",
    ]
    later = []
    position = (quantity(record["log"]["blockNumber"]), quantity(record["log"]["logIndex"]))
    subject = (
        record["log"]["topics"][1]
        if kind.kind == "plogging"
        else word(int(record["fields"].get("itemId", 0)))
    )
    allowed = PLOGGING_LATER if kind.kind == "plogging" else FEEDBACK_LATER if kind.kind == "feedback" else {}
    for i, p in enumerate(bundle.get("later") or []):
        name = p["event"]["name"]
        _need(
            name in allowed and signature(p["event"]) == SPECS[name].signature,
            "record-mismatch",
            f"later event {i}: {signature(p['event'])} does not change a {kind.kind}'s status",
        )
        _need(
            str(p["log"]["topics"][1]).lower() == subject.lower(),
            "record-mismatch",
            f"later event {i}: it is about {p['log']['topics'][1]}, not this record",
        )
        here = (quantity(p["log"]["blockNumber"]), quantity(p["log"]["logIndex"]))
        _need(here > position, "record-mismatch", f"later event {i}: it is not after the record")
        _check_proven(p, chain_id, address, f"later event {i}")
        position = here
        later.append((name, p["fields"]))
    if later:
        checked.append(f"{len(later)} later status events proven the same way")
    status = fold_status(kind.kind, record["fields"], later)
    _need(
        all(bundle.get(k) == v for k, v in status.items()),
        "record-mismatch",
        f"the proven events leave status {status}, the bundle states {bundle.get('status')}",
    )
    if deployment is not None:
        d = as_deployment(deployment)
        _need(
            d.chain_id == chain_id,
            "chain-id",
            f"the deployment is on chain {d.chain_id}, the bundle {chain_id}",
        )
        _need(
            d.address(kind.contract).lower() == address.lower(),
            "wrong-contract",
            f"the deployment's {kind.contract} is {d.address(kind.contract)}, not {address}",
        )
        checked.append(f"{address} is the deployment's {kind.contract}")
    header = record["header"]
    report = BundleReport(
        kind=kind.kind,
        digest=str(bundle["digest"]).lower(),
        chain_id=chain_id,
        contract=address,
        block_number=quantity(header["number"]),
        block_hash=str(header["hash"]).lower(),
        tx_hash=str(record["log"]["transactionHash"]).lower(),
        log_index=quantity(record["log"]["logIndex"]),
        status=status["status"] + (" (hidden)" if status.get("hidden") else ""),
        fields=dict(record["fields"]),
        checked=checked,
    )
    if node is None:
        report.not_checked = [
            "that the block is on the canonical chain (pass a node)",
            "events after the bundle was made",
        ]
        return report
    node_chain = quantity(node.call("eth_chainId"))
    _need(node_chain == chain_id, "chain-id", f"the node is chain {node_chain}, the bundle chain {chain_id}")
    for what, p in [
        ("record", record),
        *((f"later event {i}", p) for i, p in enumerate(bundle.get("later") or [])),
    ]:
        number = quantity(p["header"]["number"])
        canonical = node.call("eth_getBlockByNumber", [hex(number), False])
        _need(
            canonical is not None and str(canonical["hash"]).lower() == str(p["header"]["hash"]).lower(),
            "not-canonical",
            f"{what}: block {number} on the node's canonical chain is "
            f"{None if canonical is None else canonical['hash']}, not {p['header']['hash']}",
        )
    report.canonical = True
    report.confirmations = head(node) - report.block_number + 1
    report.checked.append(f"block {report.block_number} is on the node's canonical chain")
    report.not_checked = ["events after the bundle was made (ask `verify record`)"]
    return report
