"""What verification needs from outside: a JSON-RPC node (one method) and the deployment's addresses and
ABIs, as a manifest (`Deployment`) or as `GET /v1/deployment` publishes them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..chain.decode import decode_logs
from ..chain.events import EVENTS, EVENTS_BY_TOPIC, EventSpec
from ..deploy import Deployment
from ..errors import RpcError
from ._errors import VerifyError


class Node(Protocol):
    """Any JSON-RPC transport: `ledger.chain.rpc.HttpRpc` is one."""

    def call(self, method: str, params: Sequence[Any] = ()) -> Any: ...


@dataclass(frozen=True)
class KindEvent:
    """Where a kind's record lives: the contract, the event that records it, the topic of its digest."""

    kind: str
    contract: str
    event: str
    digest_topic: int

    @property
    def spec(self) -> EventSpec:
        return SPECS[self.event]


# `tests/unit/test_verify_encoding.py` checks this table against `ledger.kinds.KINDS`, which this
# package does not import (it pulls in the outbox's models).
KIND_EVENTS: dict[str, KindEvent] = {
    k.kind: k
    for k in (
        KindEvent("plogging", "PloggingRegistry", "PloggingRecorded", 1),
        KindEvent("feedback", "FeedbackBox", "FeedbackSubmitted", 2),
        KindEvent("support", "FeedbackBox", "FeedbackSupported", 2),
        KindEvent("redemption", "CommunityRewards", "Redeemed", 1),
        KindEvent("donation", "CommunityRewards", "Donated", 1),
        KindEvent("claim", "CommunityRewards", "BonusClaimed", 2),
    )
}
SPECS: dict[str, EventSpec] = {e.name: e for e in EVENTS}
SPEC_NAMES: dict[str, str] = {e.topic0: e.name for e in EVENTS}
# PloggingRecorded's status, and the later events that change a session's or a feedback item's status
PLOGGING_RECORDED_STATUS = {1: "pending", 2: "accepted"}
PLOGGING_LATER = {
    "PloggingVerified": "accepted",
    "PloggingRejected": "rejected",
    "PloggingRevoked": "revoked",
}
FEEDBACK_LATER: dict[str, str | None] = {
    "FeedbackReviewStarted": "under_review",
    "FeedbackAnswered": "answered",
    "FeedbackClosed": "closed",
    "FeedbackModerated": None,  # beside the lifecycle: the item's `hidden`
}
POSITION = ("chain_id", "block_number", "block_hash", "log_index", "tx_hash")
_DIGEST = re.compile(r"0x[0-9a-fA-F]{64}")


def as_deployment(deployment: Deployment | Mapping[str, Any]) -> Deployment:
    """A manifest as is; the JSON of `GET /v1/deployment` turned into one."""
    if isinstance(deployment, Deployment):
        return deployment
    return Deployment.from_public(dict(deployment))


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise VerifyError(f"an action digest is 0x and 64 hex digits, not {digest!r}")
    return digest.lower()


def quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def word(value: int) -> str:
    """An integer as an indexed topic."""
    return "0x" + value.to_bytes(32, "big").hex()


def get_logs(
    node: Node, address: str | list[str], topics: list[Any], from_block: int, to_block: int | None = None
) -> list[dict[str, Any]]:
    """Matching logs from `from_block` to `to_block` (default: the head). A range the node refuses
    (public nodes cap eth_getLogs by blocks or results) is split in halves until it answers."""
    last = head(node) if to_block is None else to_block
    if last < from_block:
        return []
    query = {"address": address, "topics": topics, "fromBlock": hex(from_block), "toBlock": hex(last)}
    try:
        logs = node.call("eth_getLogs", [query])
    except RpcError:
        if last == from_block:
            raise
        middle = (from_block + last) // 2
        return get_logs(node, address, topics, from_block, middle) + get_logs(
            node, address, topics, middle + 1, last
        )
    return [log for log in logs or [] if not log.get("removed")]


def decode(log: dict[str, Any], chain_id: int) -> tuple[EventSpec, dict[str, Any]]:
    """The event and its fields (mirror column names), without the log's position."""
    spec = EVENTS_BY_TOPIC[log["topics"][0]]
    row = decode_logs([log], chain_id, only=frozenset({spec.table}))[spec.table][0]
    return spec, {k: v for k, v in row.items() if k not in POSITION}


def head(node: Node) -> int:
    return quantity(node.call("eth_blockNumber"))
