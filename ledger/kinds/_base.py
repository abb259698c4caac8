"""What every action kind declares (`Kind`), the relayer's view of one (`BatchKind`), and what the
API's `prepare` gives a kind to fill its message with (`PrepareContext`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from eth_abi.abi import decode, encode
from eth_hash.auto import keccak
from pydantic import BaseModel
from sqlmodel import Session

from ..chain.events import EVENTS
from ..eip712 import ActionType
from ..models import Action
from ..types import Address


class ChainCalls(Protocol):
    def call(self, method: str, params: Sequence[Any] = ()) -> Any: ...


@dataclass(frozen=True)
class PrepareContext:
    """What a kind may use to turn a parsed payload into its message's fields."""

    session: Session  # the request's write session: prepare may store (feedback text) before commit
    rpc: ChainCalls
    chain_id: int
    contracts: Mapping[str, str]  # the deployment's addresses by contract name
    resident: Address
    now: int


@dataclass(frozen=True)
class VerifiedAction:
    """A signed action that passed every check: what the outbox stores."""

    id: str
    kind: str
    contract: Address
    resident: Address
    nonce: int
    deadline: int
    message: dict[str, Any]
    signature: str

    def message_json(self) -> str:
        return json.dumps(self.message, sort_keys=True)


def event_topic(name: str) -> str:
    return next(e.topic0 for e in EVENTS if e.name == name)


@dataclass(frozen=True)
class BatchKind:
    """How stored actions of one kind become one batch call, and which event proves each recorded."""

    kind: str
    contract: str  # the deployment's contract name
    function: str  # the batch function's name; it takes `item_type[]`
    item_type: str  # the ABI type of one item
    encode_item: Callable[[dict[str, Any], bytes], tuple[Any, ...]]  # (stored message, signature) → item
    recorded_event: str  # the event that proves an action was recorded
    check_function: str  # a view `check(item) returns (bytes reason)`
    max_batch: int  # the contract's MAX_BATCH
    digest_topic: int = 1  # which topic of that event carries the action's digest
    # An encoder for the whole argument list, for kinds whose layout is fixed: eth_abi's generic
    # encoder was a fifth of the relayer's CPU at 700 actions/s. Tests check both agree.
    fast_encode: Callable[[list[Action]], bytes | None] | None = None
    # The order of one resident's entries in a batch (by default their nonces); a kind with an
    # order also keeps one batch per resident in flight (the relayer's barrier)
    order_by: Callable[[dict[str, Any]], Any] | None = None
    # Gas a batch may need on chain beyond its simulation, when another batch lands first and
    # changes the state its entries touch (stored messages → gas)
    extra_gas: Callable[[list[dict[str, Any]]], int] | None = None

    def state_gas(self, actions: list[Action]) -> int:
        if self.extra_gas is None:
            return 0
        return self.extra_gas([json.loads(a.message) for a in actions])

    def order(self, action: Action) -> tuple[Any, ...]:
        if self.order_by is None:
            return (action.resident, action.nonce)
        return (action.resident, self.order_by(json.loads(action.message)), action.nonce)

    @cached_property
    def recorded_topic(self) -> str:
        return event_topic(self.recorded_event)

    @cached_property
    def selector(self) -> bytes:
        return keccak(f"{self.function}({self.item_type}[])".encode())[:4]

    @cached_property
    def check_selector(self) -> bytes:
        return keccak(f"{self.check_function}({self.item_type})".encode())[:4]

    def item(self, action: Action) -> tuple[Any, ...]:
        return self.encode_item(json.loads(action.message), bytes.fromhex(action.signature[2:]))

    def encode_batch(self, actions: list[Action]) -> bytes:
        if self.fast_encode is not None and (fast := self.fast_encode(actions)) is not None:
            return self.selector + fast
        return self.selector + self.generic_encode(actions)

    def generic_encode(self, actions: list[Action]) -> bytes:
        return encode([f"{self.item_type}[]"], [[self.item(a) for a in actions]])

    def encode_check(self, action: Action) -> bytes:
        return self.check_selector + encode([self.item_type], [self.item(action)])

    @staticmethod
    def decode_failed_mask(result: str) -> int:
        return int(decode(["uint256"], bytes.fromhex(result[2:]))[0])

    @staticmethod
    def decode_reason(result: str) -> bytes:
        return bytes(decode(["bytes"], bytes.fromhex(result[2:]))[0])


# (context, parsed payload) → the message's own fields (resident, nonce and deadline are added)
Fill = Callable[[PrepareContext, dict[str, Any]], dict[str, Any]]
# (verified message, now) → (field, problem) when a signed message cannot be recorded yet
Check = Callable[[dict[str, Any], int], tuple[str, str] | None]
# (session, chain id, verified message) → what the stored message carries besides the signed fields
Attach = Callable[[Session, int, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """Everything about one action kind; the registry (`ledger.kinds.KINDS`) derives every view."""

    eip712: ActionType  # the EIP-712 type, and the contract that records it
    payload: type[BaseModel]  # what `prepare` takes
    message: type[BaseModel]  # the signed message
    fill: Fill
    batch: BatchKind
    check: Check | None = None
    attach: Attach | None = None

    @property
    def name(self) -> str:
        return self.eip712.kind
