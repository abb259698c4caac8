"""The mayor's feedback box (FeedbackBox): an opinion (`feedback`), and another resident's agreement
with it (`support`). The opinion's text stays off-chain (`ledger.feedback`); its hash is signed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..chain.calls import view
from ..eip712 import ActionType
from ..errors import ActionConflictError
from ..feedback import category_id, store_content
from ._base import BatchKind, Kind, PrepareContext
from ._fields import Address, Bytes32, Text, Uint16, Uint32, Uint64

FEEDBACK = ActionType(
    kind="feedback",
    contract="FeedbackBox",
    primary_type="Feedback",
    fields=(
        ("resident", "address"),
        ("category", "uint16"),
        ("areaCode", "uint32"),
        ("contentHash", "bytes32"),
        ("nonce", "uint64"),
        ("deadline", "uint64"),
    ),
)

SUPPORT = ActionType(
    kind="support",
    contract="FeedbackBox",
    primary_type="Support",
    fields=(("resident", "address"), ("itemId", "uint64"), ("nonce", "uint64"), ("deadline", "uint64")),
)


class FeedbackPayload(BaseModel):
    """An opinion for the virtual mayor's office."""

    model_config = ConfigDict(extra="forbid")

    category: Text = Field(min_length=1, max_length=64, description="A category's name, e.g. `environment`.")
    content: Text = Field(min_length=1, max_length=4000, description="The opinion's text (kept off-chain).")
    areaCode: Uint32 = 0


class FeedbackMessage(BaseModel):
    """The signed `Feedback` message."""

    model_config = ConfigDict(extra="forbid")

    resident: Address
    category: Uint16
    areaCode: Uint32
    contentHash: Bytes32
    nonce: Uint64
    deadline: Uint64


class SupportPayload(BaseModel):
    """Agreement with another resident's feedback item, once per item."""

    model_config = ConfigDict(extra="forbid")

    itemId: Uint64


class SupportMessage(SupportPayload):
    """The signed `Support` message."""

    resident: Address
    nonce: Uint64
    deadline: Uint64


def _fill_feedback(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    category = category_id(session=ctx.session, chain_id=ctx.chain_id, name=payload["category"])
    content_hash = store_content(
        session=ctx.session, resident=ctx.resident, category=payload["category"], content=payload["content"]
    )
    return {"category": category, "areaCode": payload["areaCode"], "contentHash": content_hash}


def _fill_support(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    box = ctx.contracts["FeedbackBox"]
    item_id = payload["itemId"]
    (count,) = view(ctx.rpc, box, "itemCount()", [], ["uint256"])
    if not 1 <= item_id <= count:
        raise ActionConflictError(
            f"no feedback item {item_id} (items are 1 to {count})", field="payload.itemId"
        )
    (supported,) = view(ctx.rpc, box, "hasSupported(uint256,address)", [item_id, ctx.resident], ["bool"])
    if supported:
        raise ActionConflictError(f"{ctx.resident} already supports item {item_id}", field="payload.itemId")
    return {"itemId": item_id}


# A support that takes its item to the threshold pushes the item onto the obliged list (a new
# storage slot and the length), sets its due date and emits FeedbackAnswerRequired: ~27,000 gas. A
# batch simulated before another batch for the same items landed may cross thresholds the
# simulation did not; a few crossings per batch are covered (beyond that the batch runs out of gas,
# goes back to the queue and is simulated again against the new state, losing nothing).
_CROSSING_GAS = 27_000
_CROSSINGS_COVERED = 4


def _threshold_gas(messages: list[dict[str, Any]]) -> int:
    return _CROSSING_GAS * min(len({m["itemId"] for m in messages}), _CROSSINGS_COVERED)


def _feedback_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    fields = (m["resident"], m["category"], m["areaCode"], bytes.fromhex(m["contentHash"][2:]))
    return ((*fields, m["nonce"], m["deadline"]), signature)


def _support_item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
    return ((m["resident"], m["itemId"], m["nonce"], m["deadline"]), signature)


FEEDBACK_KIND = Kind(
    eip712=FEEDBACK,
    payload=FeedbackPayload,
    message=FeedbackMessage,
    fill=_fill_feedback,
    batch=BatchKind(
        kind="feedback",
        contract="FeedbackBox",
        function="submitBatch",
        item_type="((address,uint16,uint32,bytes32,uint64,uint64),bytes)",
        encode_item=_feedback_item,
        recorded_event="FeedbackSubmitted",
        check_function="checkFeedback",
        max_batch=64,
        digest_topic=2,  # FeedbackSubmitted(uint256 indexed itemId, bytes32 indexed digest, …)
    ),
)

SUPPORT_KIND = Kind(
    eip712=SUPPORT,
    payload=SupportPayload,
    message=SupportMessage,
    fill=_fill_support,
    batch=BatchKind(
        kind="support",
        contract="FeedbackBox",
        function="supportBatch",
        item_type="((address,uint64,uint64,uint64),bytes)",
        encode_item=_support_item,
        recorded_event="FeedbackSupported",
        check_function="checkSupport",
        max_batch=64,
        extra_gas=_threshold_gas,
        digest_topic=2,  # FeedbackSupported(uint256 indexed itemId, bytes32 indexed digest, …)
    ),
)
