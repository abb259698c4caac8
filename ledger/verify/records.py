"""A record by its action digest, for every kind, with its current status: the record itself, then
every later event about it (a plogging session's verification, rejection or revocation; a feedback
item's supports, review, answer, closing and moderation), read from the node's logs alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..chain.revert import ErrorDecoder
from ..deploy import Deployment
from ._node import (
    FEEDBACK_LATER,
    KIND_EVENTS,
    PLOGGING_LATER,
    PLOGGING_RECORDED_STATUS,
    SPECS,
    Node,
    as_deployment,
    check_digest,
    decode,
    get_logs,
    head,
    quantity,
    word,
)

__all__ = ["Record", "find_record", "record_log"]

# besides the lifecycle events: the item's supports and its answer obligation
_FEEDBACK_EVENTS = ("FeedbackSupported", "FeedbackAnswerRequired", *FEEDBACK_LATER)


@dataclass
class Record:
    """What the chain says about one action. `status` is its current one; `history` the events behind it."""

    digest: str
    found: bool
    kind: str | None = None
    contract: str | None = None  # the deployment's name of the contract that recorded it
    address: str | None = None
    event: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    tx_hash: str | None = None
    tx_index: int | None = None
    log_index: int | None = None
    fields: dict[str, Any] | None = None
    status: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    item: dict[str, Any] | None = None  # feedback and support: the item as it stands
    head: int | None = None
    confirmations: int = 0
    finality_depth: int | None = None
    final: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)  # attempts refused on chain

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _entry(log: dict[str, Any], chain_id: int) -> dict[str, Any]:
    spec, fields = decode(log, chain_id)
    return {
        "event": spec.name,
        "blockNumber": quantity(log["blockNumber"]),
        "transactionHash": log["transactionHash"],
        "logIndex": quantity(log["logIndex"]),
        "fields": fields,
    }


def record_log(
    node: Node, deployment: Deployment | Mapping[str, Any], digest: str, kind: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The kind and the raw log that recorded the action with this digest, if the chain has it."""
    d = as_deployment(deployment)
    digest = check_digest(digest)
    kinds = [KIND_EVENTS[kind]] if kind else list(KIND_EVENTS.values())
    for position in (1, 2):
        group = [k for k in kinds if k.digest_topic == position and k.contract in d.contracts]
        if not group:
            continue
        topics: list[Any] = [sorted({k.spec.topic0 for k in group})] + [None] * (position - 1) + [digest]
        addresses = sorted({d.address(k.contract) for k in group})
        for log in get_logs(node, addresses, topics, d.start_block):
            for k in group:
                if (
                    log["topics"][0] == k.spec.topic0
                    and log["address"].lower() == d.address(k.contract).lower()
                ):
                    return k.kind, log
    return None


def _failures(node: Node, d: Deployment, digest: str) -> list[dict[str, Any]]:
    addresses = sorted({d.address(k.contract) for k in KIND_EVENTS.values() if k.contract in d.contracts})
    decoder = ErrorDecoder([c.abi for c in d.contracts.values()])
    out = []
    for log in get_logs(node, addresses, [SPECS["ActionFailed"].topic0, digest], d.start_block):
        entry = _entry(log, d.chain_id)
        entry["reason"] = decoder.text(bytes.fromhex(entry["fields"]["reason"][2:]))
        out.append(entry)
    return out


def _plogging_status(record: Record, node: Node, d: Deployment) -> None:
    assert record.fields is not None and record.block_number is not None
    status = record.fields["status"]
    record.status = PLOGGING_RECORDED_STATUS.get(status, f"status {status}")
    topics = [sorted(SPECS[n].topic0 for n in PLOGGING_LATER), record.digest]
    for log in get_logs(node, d.address("PloggingRegistry"), topics, record.block_number):
        entry = _entry(log, d.chain_id)
        record.history.append(entry)
        record.status = PLOGGING_LATER[entry["event"]]


def feedback_item(node: Node, deployment: Deployment | Mapping[str, Any], item_id: int) -> dict[str, Any]:
    """A feedback item as its events leave it: lifecycle status, hidden, supports, answer, obligation."""
    d = as_deployment(deployment)
    box = d.address("FeedbackBox")
    submitted = get_logs(node, box, [SPECS["FeedbackSubmitted"].topic0, word(item_id)], d.start_block)
    if not submitted:
        return {"id": item_id, "found": False}
    first = submitted[0]
    _, fields = decode(first, d.chain_id)
    item: dict[str, Any] = {
        "id": item_id,
        "found": True,
        "resident": fields["resident"],
        "digest": fields["digest"],
        "status": "submitted",
        "hidden": False,
        "supports": 0,
        "answerDueAt": None,
        "accepted": None,
        "answerHash": None,
        "events": [],
    }
    topics = [sorted(SPECS[n].topic0 for n in _FEEDBACK_EVENTS), word(item_id)]
    for log in get_logs(node, box, topics, quantity(first["blockNumber"])):
        entry = _entry(log, d.chain_id)
        f, name = entry["fields"], entry["event"]
        if name == "FeedbackSupported":
            item["supports"] = f["support_count"]
        elif name == "FeedbackAnswerRequired":
            item["answerDueAt"] = f["due_at"]
        elif name == "FeedbackReviewStarted":
            item["status"] = "under_review"
        elif name == "FeedbackAnswered":
            item.update(status="answered", accepted=f["accepted"], answerHash=f["answer_hash"])
        elif name == "FeedbackClosed":
            item["status"] = "closed"
        elif name == "FeedbackModerated":
            item["hidden"] = f["hidden"]
        if name != "FeedbackSupported":  # supports are the support records' own
            item["events"].append(entry)
    return item


def find_record(
    node: Node,
    deployment: Deployment | Mapping[str, Any],
    digest: str,
    *,
    kind: str | None = None,
    finality_depth: int = 64,
) -> Record:
    """The chain's record of the action with this EIP-712 digest, its current status, and its depth.

    Not found: `found` is false and `failures` lists the attempts the contract refused (with reasons).
    """
    d = as_deployment(deployment)
    digest = check_digest(digest)
    found = record_log(node, d, digest, kind)
    top = head(node)
    if found is None:
        return Record(digest=digest, found=False, head=top, failures=_failures(node, d, digest))
    kind_name, log = found
    k = KIND_EVENTS[kind_name]
    _, fields = decode(log, d.chain_id)
    block = quantity(log["blockNumber"])
    record = Record(
        digest=digest,
        found=True,
        kind=kind_name,
        contract=k.contract,
        address=d.address(k.contract),
        event=k.event,
        block_number=block,
        block_hash=log["blockHash"],
        tx_hash=log["transactionHash"],
        tx_index=quantity(log["transactionIndex"]),
        log_index=quantity(log["logIndex"]),
        fields=fields,
        status="recorded",
        head=top,
        confirmations=max(top - block + 1, 0),
        finality_depth=finality_depth,
    )
    record.final = record.confirmations >= finality_depth
    if kind_name == "plogging":
        _plogging_status(record, node, d)
    elif kind_name in ("feedback", "support"):
        record.item = feedback_item(node, d, fields["item_id"])
        if kind_name == "feedback":
            record.status = record.item["status"]  # moderation is beside the lifecycle: item.hidden
            record.history = record.item["events"]
    return record
