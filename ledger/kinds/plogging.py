"""Plogging: a resident's session of jogging or walking while picking up litter (PloggingRegistry)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..eip712 import ActionType
from ..errors import ActionConflictError
from ..models import Action
from ._base import BatchKind, Kind, PrepareContext
from ._fields import Address, Bytes32, Uint32, Uint64

PLOGGING = ActionType(
    kind="plogging",
    contract="PloggingRegistry",
    primary_type="PloggingSession",
    fields=(
        ("resident", "address"),
        ("distanceMeters", "uint32"),
        ("durationSeconds", "uint32"),
        ("trashGrams", "uint32"),
        ("areaCode", "uint32"),
        ("startedAt", "uint64"),
        ("evidenceHash", "bytes32"),
        ("nonce", "uint64"),
        ("deadline", "uint64"),
    ),
)


class PloggingPayload(BaseModel):
    """What the metaverse reports for one plogging session."""

    model_config = ConfigDict(extra="forbid")

    distanceMeters: Uint32
    durationSeconds: Uint32
    trashGrams: Uint32
    areaCode: Uint32
    startedAt: Uint64
    evidenceHash: Bytes32


class PloggingMessage(PloggingPayload):
    """The signed `PloggingSession`: the payload plus resident, nonce and deadline."""

    resident: Address
    nonce: Uint64
    deadline: Uint64


def _ended(message: dict[str, Any], now: int) -> tuple[str, str] | None:
    end = message["startedAt"] + message["durationSeconds"]
    if end > now:
        return "startedAt", f"the session ends at {end}, after now ({now}); submit it once it has ended"
    return None


def _fill(ctx: PrepareContext, payload: dict[str, Any]) -> dict[str, Any]:
    if (problem := _ended(payload, ctx.now)) is not None:
        raise ActionConflictError(problem[1], field="payload." + problem[0])
    return payload


def _item(m: dict[str, Any], signature: bytes) -> tuple[Any, ...]:
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


_ITEM_SIZE = 9 * 32 + 32 + 32 + 96  # session words, bytes offset, bytes length, 65 bytes padded
_WORDS = ("distanceMeters", "durationSeconds", "trashGrams", "areaCode", "startedAt")


def _fast_batch(actions: list[Action]) -> bytes | None:
    """ABI of `((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)[]`, or None
    when an entry does not fit the fixed layout (a smart account's signature): eth_abi encodes it."""
    n = len(actions)
    head = [_word(0x20), _word(n)] + [_word(n * 32 + i * _ITEM_SIZE) for i in range(n)]
    body = []
    for a in actions:
        m = json.loads(a.message)
        signature = bytes.fromhex(a.signature[2:])
        evidence = bytes.fromhex(m["evidenceHash"][2:])
        if len(signature) != 65 or len(evidence) != 32:
            return None
        body.append(
            bytes(12)
            + bytes.fromhex(m["resident"][2:])
            + b"".join(_word(m[k]) for k in _WORDS)
            + evidence
            + _word(m["nonce"])
            + _word(m["deadline"])
            + _word(10 * 32)
            + _word(65)
            + signature
            + bytes(31)
        )
    return b"".join(head) + b"".join(body)


KIND = Kind(
    eip712=PLOGGING,
    payload=PloggingPayload,
    message=PloggingMessage,
    fill=_fill,
    check=_ended,
    batch=BatchKind(
        kind="plogging",
        contract="PloggingRegistry",
        function="recordBatch",
        item_type="((address,uint32,uint32,uint32,uint32,uint64,bytes32,uint64,uint64),bytes)",
        encode_item=_item,
        recorded_event="PloggingRecorded",
        check_function="check",
        max_batch=100,
        fast_encode=_fast_batch,
        # A resident's sessions are recorded in the order they happened (PloggingRegistrySessionOverlaps)
        order_by=lambda m: m["startedAt"],
    ),
)
