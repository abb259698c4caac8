"""The registry of action kinds the relayer can batch: target contract, function, item encoder.

A kind says how its stored actions become one batch call and which event proves an action was
recorded. Adding a kind (feedback, or a mixed-kind ActionBatcher) is one `BatchKind` here; the
relayer's batching, pre-flight, nonces, replacement and settling do not change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi.abi import decode, encode
from eth_hash.auto import keccak

from ..chain.decode import PLOGGING_RECORDED, topic
from ..models import Action

FEEDBACK_SUBMITTED = topic("FeedbackSubmitted(uint256,bytes32,address,uint16,uint32,bytes32,uint64)")


@dataclass(frozen=True)
class BatchKind:
    kind: str
    contract: str  # the deployment's contract name
    function: str  # the batch function's name; it takes `item_type[]`
    item_type: str  # the ABI type of one item
    encode_item: Callable[[dict[str, Any], bytes], tuple[Any, ...]]  # (message, signature) → item
    recorded_topic: str  # topic0 of the event that proves an action was recorded
    check_function: str | None = None  # a view `check(item) returns (bytes reason)`, if any
    digest_topic: int = 1  # which topic of that event carries the action's digest
    # An encoder for the whole argument list, for kinds whose layout is fixed: eth_abi's generic
    # encoder was a fifth of the relayer's CPU at 700 actions/s. Tests check both agree.
    fast_encode: Callable[[list[Action]], bytes] | None = None

    @cached_property
    def selector(self) -> bytes:
        return keccak(f"{self.function}({self.item_type}[])".encode())[:4]

    @cached_property
    def check_selector(self) -> bytes | None:
        if self.check_function is None:
            return None
        return keccak(f"{self.check_function}({self.item_type})".encode())[:4]

    def item(self, action: Action) -> tuple[Any, ...]:
        return self.encode_item(json.loads(action.message), bytes.fromhex(action.signature[2:]))

    def encode_batch(self, actions: list[Action]) -> bytes:
        if self.fast_encode is not None:
            return self.selector + self.fast_encode(actions)
        return self.selector + self.generic_encode(actions)

    def generic_encode(self, actions: list[Action]) -> bytes:
        return encode([f"{self.item_type}[]"], [[self.item(a) for a in actions]])

    def encode_check(self, action: Action) -> bytes | None:
        if self.check_selector is None:
            return None
        return self.check_selector + encode([self.item_type], [self.item(action)])

    @staticmethod
    def decode_failed_mask(result: str) -> int:
        return int(decode(["uint256"], bytes.fromhex(result[2:]))[0])

    @staticmethod
    def decode_reason(result: str) -> bytes:
        return bytes(decode(["bytes"], bytes.fromhex(result[2:]))[0])


def _plogging_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    session = (
        m["resident"],
        m["distanceMeters"],
        m["durationSeconds"],
        m["trashGrams"],
        m["areaCode"],
        m["startedAt"],
        bytes.fromhex(m["evidenceHash"][2:]),
        m["nonce"],
        m["deadline"],
    )
    return (session, signature)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


_PLOGGING_ITEM_SIZE = 9 * 32 + 32 + 32 + 96  # session words, bytes offset, bytes length, 65 bytes padded


def _plogging_batch(actions: list[Action]) -> bytes:
    """ABI of `((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[]`."""
    n = len(actions)
    head = [_word(0x20), _word(n)] + [_word(n * 32 + i * _PLOGGING_ITEM_SIZE) for i in range(n)]
    body = []
    for a in actions:
        m = json.loads(a.message)
        signature = bytes.fromhex(a.signature[2:])
        if len(signature) != 65:  # the fixed layout assumes an ECDSA signature; others go generic
            return PLOGGING.generic_encode(actions)
        body.append(
            bytes(12)
            + bytes.fromhex(m["resident"][2:])
            + b"".join(
                _word(m[k])
                for k in ("distanceMeters", "durationSeconds", "trashGrams", "areaCode", "startedAt")
            )
            + bytes.fromhex(m["evidenceHash"][2:])
            + _word(m["nonce"])
            + _word(m["deadline"])
            + _word(10 * 32)
            + _word(65)
            + signature
            + bytes(31)
        )
    return b"".join(head) + b"".join(body)


PLOGGING = BatchKind(
    kind="plogging",
    contract="PloggingRegistry",
    function="recordBatch",
    item_type="((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)",
    encode_item=_plogging_item,
    recorded_topic=PLOGGING_RECORDED,
    check_function="check",
    fast_encode=_plogging_batch,
)


def _feedback_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    feedback = (
        m["resident"],
        m["category"],
        m["areaCode"],
        bytes.fromhex(m["contentHash"][2:]),
        m["nonce"],
        m["deadline"],
    )
    return (feedback, signature)


FEEDBACK = BatchKind(
    kind="feedback",
    contract="FeedbackBox",
    function="submitBatch",
    item_type="((address,uint16,uint32,bytes32,uint64,uint64),bytes)",
    encode_item=_feedback_item,
    recorded_topic=FEEDBACK_SUBMITTED,
    check_function="checkFeedback",
    digest_topic=2,  # FeedbackSubmitted(uint256 indexed itemId, bytes32 indexed digest, …)
)

KINDS: dict[str, BatchKind] = {k.kind: k for k in (PLOGGING, FEEDBACK)}
# topic0 of each "recorded" event → the index of the topic that carries the digest
RECORDED_TOPICS: dict[str, int] = {k.recorded_topic: k.digest_topic for k in KINDS.values()}
