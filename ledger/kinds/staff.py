"""Staff forward requests: a staff member's own call to a ledger contract, signed by them and relayed.

A staff member (verifier, reviewer, moderator, campaign or partner manager, policy holder, admin)
signs an EIP-712 `ForwardRequest` for the `StaffForwarder` (OpenZeppelin's `ERC2771Forwarder`, domain
"ESGStaffForwarder" version "1"). The relayer submits it through `executeBatch` (with itself as refund
receiver, so an invalid request is skipped instead of reverting the batch) or `execute`. The called
contract sees the signer as `_msgSender()`: the signer's role authorizes the call and the contract's
event names the signer. The forwarder logs `ExecutedForwardRequest(signer, nonce, success)` for each
request it ran (success false: the call reverted, e.g. without the role; the nonce is used all the
same) and nothing for one it skipped (bad signature, expired, a nonce not the signer's next).

Nonces are the forwarder's `nonces(from)`: sequential per staff member, so a staff member's requests
run in nonce order. The event carries no digest: a request is identified by (signer, nonce), or off
chain by its EIP-712 digest (`request_id`). Not registered in `ledger.kinds.KINDS` (it is not a
resident kind); `BATCH` is a `BatchKind` for the relayer once given a refund receiver (`for_relayer`).
`STAFF_FUNCTIONS` is the allow-list of what a request may call (`_staff_functions`); preparing and
verifying a staff member's call is `ledger.staff_actions`. See docs/contracts.md, "Staff act as
themselves", and docs/relayer.md, "Staff requests".
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Annotated, Any

from eth_abi.abi import decode, encode
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..chain.calls import view
from ..eip712 import DOMAIN_FIELDS, DOMAIN_TYPEHASH, normalize_signature, recover
from ..errors import InvalidActionError
from ..models import Action
from ..types import ZERO_ADDRESS, Address, checksum
from ._base import BatchKind, ChainCalls
from ._fields import Address as AddressField
from ._fields import Uint256, integer
from ._staff_functions import (
    EXCLUDED,
    STAFF_FUNCTIONS,
    StaffFunction,
    allowed_calls,
    explain,
    staff_function,
)

__all__ = [
    "BATCH",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EXCLUDED",
    "EXECUTED_EVENT",
    "EXECUTE_SELECTORS",
    "FORWARDER",
    "FORWARD_REQUEST_FIELDS",
    "FORWARD_REQUEST_TYPE",
    "FORWARD_REQUEST_TYPEHASH",
    "MAX_BATCH",
    "MAX_DATA_BYTES",
    "MAX_REQUEST_GAS",
    "REQUEST_DATA_TYPE",
    "STAFF_FUNCTIONS",
    "ExecutedRequest",
    "ForwardBatchKind",
    "ForwardRequestMessage",
    "StaffFunction",
    "allowed_calls",
    "decode_executed",
    "decode_requests",
    "digest",
    "domain",
    "domain_separator",
    "encode_execute",
    "encode_execute_batch",
    "expired",
    "explain",
    "inner_call",
    "message",
    "message_of",
    "next_nonce",
    "prepare",
    "request_data",
    "request_id",
    "signer",
    "staff_function",
    "struct_hash",
    "typed_data",
]

FORWARDER = "StaffForwarder"  # the deployment's contract name
DOMAIN_NAME = "ESGStaffForwarder"
DOMAIN_VERSION = "1"
FORWARD_REQUEST_FIELDS = (
    ("from", "address"),
    ("to", "address"),
    ("value", "uint256"),
    ("gas", "uint256"),
    ("nonce", "uint256"),
    ("deadline", "uint48"),
    ("data", "bytes"),
)
FORWARD_REQUEST_TYPE = f"ForwardRequest({','.join(f'{t} {n}' for n, t in FORWARD_REQUEST_FIELDS)})"
FORWARD_REQUEST_TYPEHASH = keccak(FORWARD_REQUEST_TYPE.encode())
# ERC2771Forwarder.ForwardRequestData: the signed fields without the nonce, and the signature
REQUEST_DATA_TYPE = "(address,address,uint256,uint256,uint48,bytes,bytes)"
EXECUTED_EVENT = "ExecutedForwardRequest(address,uint256,bool)"
_EXECUTED_TOPIC = "0x" + keccak(EXECUTED_EVENT.encode()).hex()

# Staff calls are small: the largest (a revocation with its Merkle proof, a policy push to two
# contracts) use well under 200,000 gas. 16 requests of at most 500,000 stay far below the 2**24
# transaction gas cap, the forwarder's per-request overhead (~40,000) included.
MAX_REQUEST_GAS = 500_000
MAX_BATCH = 16
MAX_DATA_BYTES = 4096
UINT48_MAX = 2**48 - 1

_CALLDATA = re.compile(rf"0x(?:[0-9a-fA-F]{{2}}){{4,{MAX_DATA_BYTES}}}")


def _calldata(value: Any) -> str:
    if not isinstance(value, str) or not _CALLDATA.fullmatch(value):
        raise ValueError(
            f"expected 0x followed by a call's calldata: a 4-byte selector and its arguments, "
            f"an even number of hex digits, at most {MAX_DATA_BYTES} bytes"
        )
    return value.lower()


def _no_value(value: int) -> int:
    if value != 0:
        raise ValueError("must be 0: the ledger's contracts take no ether")
    return value


class ForwardRequestMessage(BaseModel):
    """The signed `ForwardRequest` (JSON keys as signed: `from`, not `from_`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: AddressField = Field(alias="from")
    to: AddressField
    value: Annotated[Uint256, AfterValidator(_no_value)] = 0
    gas: Annotated[int, BeforeValidator(integer), Field(strict=True, ge=0, le=MAX_REQUEST_GAS)]
    nonce: Uint256
    deadline: Annotated[int, BeforeValidator(integer), Field(strict=True, ge=0, le=UINT48_MAX)]
    data: Annotated[str, BeforeValidator(_calldata)]


def message(request: Mapping[str, Any]) -> dict[str, Any]:
    """`request` checked and normalized (checksummed addresses, lowercase data); InvalidActionError
    names the first bad field."""
    try:
        parsed: dict[str, Any] = ForwardRequestMessage.model_validate(request).model_dump(by_alias=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("message", *first["loc"]))
        raise InvalidActionError(
            "is required" if first["type"] == "missing" else first["msg"], field=where
        ) from None
    return parsed


def domain(chain_id: int, forwarder: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(forwarder),
    }


@functools.lru_cache(maxsize=16)
def domain_separator(chain_id: int, forwarder: str) -> bytes:
    return keccak(
        DOMAIN_TYPEHASH
        + keccak(DOMAIN_NAME.encode())
        + keccak(DOMAIN_VERSION.encode())
        + chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(forwarder[2:])
    )


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def struct_hash(request: Mapping[str, Any]) -> bytes:
    """`hashStruct(ForwardRequest)`: the static fields as words, `data` as keccak256(data)."""
    m = message(request)
    return keccak(
        FORWARD_REQUEST_TYPEHASH
        + bytes(12)
        + bytes.fromhex(m["from"][2:])
        + bytes(12)
        + bytes.fromhex(m["to"][2:])
        + _word(m["value"])
        + _word(m["gas"])
        + _word(m["nonce"])
        + _word(m["deadline"])
        + keccak(bytes.fromhex(m["data"][2:]))
    )


def digest(chain_id: int, forwarder: str, request: Mapping[str, Any]) -> bytes:
    """What the staff member signs; equals the forwarder's `forwardRequestDigest`."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, forwarder) + struct_hash(request))


def request_id(chain_id: int, forwarder: str, request: Mapping[str, Any]) -> str:
    """The request's idempotency key off chain: its digest, 0x-hex (the event names (signer, nonce))."""
    return "0x" + digest(chain_id, forwarder, request).hex()


def typed_data(chain_id: int, forwarder: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """A complete `eth_signTypedData_v4` object (`data` as 0x-hex, which wallets hash as `bytes`)."""
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
            "ForwardRequest": [{"name": n, "type": t} for n, t in FORWARD_REQUEST_FIELDS],
        },
        "primaryType": "ForwardRequest",
        "domain": domain(chain_id, forwarder),
        "message": message(request),
    }


def signer(chain_id: int, forwarder: str, request: Mapping[str, Any], signature: str) -> Address:
    """Who signed `request`: an ECDSA signature as the forwarder takes it (65 bytes, low s, v 27/28;
    no ERC-1271: staff sign with a key). The forwarder runs the request only if this is `from`."""
    return recover(digest(chain_id, forwarder, request), normalize_signature(signature))


def expired(request: Mapping[str, Any], now: int) -> tuple[str, str] | None:
    """(field, problem) when the forwarder would refuse the request at `now` for its deadline."""
    if request["deadline"] < now:
        return "deadline", f"the request expired at {request['deadline']}, before now ({now})"
    return None


def next_nonce(rpc: ChainCalls, forwarder: str, staff: str) -> int:
    """The nonce the forwarder expects in `staff`'s next request."""
    (nonce,) = view(rpc, forwarder, "nonces(address)", [checksum(staff)], ["uint256"])
    return int(nonce)


def prepare(
    rpc: ChainCalls,
    *,
    chain_id: int,
    forwarder: str,
    staff: str,
    to: str,
    data: bytes,
    now: int,
    ttl: int,
    gas: int = 200_000,
    nonce: int | None = None,
) -> dict[str, Any]:
    """The typed data for `staff` to call `to` with `data`, with the forwarder's next nonce for them
    (or `nonce`, for a request queued behind others) and a deadline `ttl` seconds from `now`."""
    request = {
        "from": staff,
        "to": to,
        "value": 0,
        "gas": gas,
        "nonce": next_nonce(rpc, forwarder, staff) if nonce is None else nonce,
        "deadline": now + ttl,
        "data": "0x" + data.hex(),
    }
    return typed_data(chain_id, forwarder, request)


def request_data(m: Mapping[str, Any], signature: bytes) -> tuple[Any, ...]:
    """The forwarder's `ForwardRequestData` for a stored message and its signature."""
    if m["value"] != 0:
        # the relayer sends no ether: a request with value would revert the whole executeBatch
        raise InvalidActionError("must be 0: the ledger's contracts take no ether", field="message.value")
    return (
        m["from"],
        m["to"],
        m["value"],
        m["gas"],
        m["deadline"],
        bytes.fromhex(m["data"][2:]),
        signature,
    )


def encode_execute(m: Mapping[str, Any], signature: bytes) -> bytes:
    """`execute(request)`: one request; reverts (keeping the nonce) if it is invalid or its call fails."""
    return _EXECUTE + encode([REQUEST_DATA_TYPE], [request_data(m, signature)])


def encode_execute_batch(items: list[tuple[Mapping[str, Any], bytes]], refund_receiver: str) -> bytes:
    """`executeBatch(requests, refundReceiver)` for (message, signature) pairs. The refund receiver
    must not be address(0): with it, one invalid request (expired, replayed, front-run) reverts the
    whole batch; with any other, that request is skipped. The requests carry no value, so nothing is
    ever refunded: the relayer names itself."""
    receiver = checksum(refund_receiver)
    if receiver == ZERO_ADDRESS:
        raise ValueError(
            "executeBatch needs a non-zero refund receiver (the relayer) to skip invalid requests"
        )
    return _EXECUTE_BATCH + encode(
        [f"{REQUEST_DATA_TYPE}[]", "address"], [[request_data(m, s) for m, s in items], receiver]
    )


_EXECUTE = keccak(f"execute({REQUEST_DATA_TYPE})".encode())[:4]
_EXECUTE_BATCH = keccak(f"executeBatch({REQUEST_DATA_TYPE}[],address)".encode())[:4]
EXECUTE_SELECTORS = {"execute": _EXECUTE, "executeBatch": _EXECUTE_BATCH}


def decode_requests(calldata: bytes) -> tuple[list[tuple[Any, ...]], str | None]:
    """The `ForwardRequestData` items of an `execute` / `executeBatch` call, and its refund receiver
    (None for `execute`); ValueError for any other calldata."""
    if calldata[:4] == _EXECUTE_BATCH:
        requests, receiver = decode([f"{REQUEST_DATA_TYPE}[]", "address"], calldata[4:])
        return [tuple(r) for r in requests], checksum(receiver)
    if calldata[:4] == _EXECUTE:
        (request,) = decode([REQUEST_DATA_TYPE], calldata[4:])
        return [tuple(request)], None
    raise ValueError("not a call of the forwarder's execute or executeBatch")


def message_of(request: tuple[Any, ...], nonce: int) -> dict[str, Any]:
    """The signed message of a decoded `ForwardRequestData`, had it been signed with `nonce`."""
    from_, to, value, gas, deadline, data, _signature = request
    return {
        "from": checksum(from_),
        "to": checksum(to),
        "value": int(value),
        "gas": int(gas),
        "nonce": nonce,
        "deadline": int(deadline),
        "data": "0x" + bytes(data).hex(),
    }


def inner_call(forwarder: str, m: Mapping[str, Any], *, gas: bool = True) -> dict[str, Any]:
    """The call the forwarder makes for request `m`, as an `eth_call` object: from the forwarder, to
    `to`, with `data` and the signer's 20 bytes appended (ERC-2771), and `gas` (the request's)."""
    call = {"from": checksum(forwarder), "to": m["to"], "data": m["data"] + m["from"][2:].lower()}
    if gas:
        call["gas"] = hex(int(m["gas"]))
    return call


@dataclass(frozen=True)
class ExecutedRequest:
    """One `ExecutedForwardRequest` log: the forwarder ran `signer`'s request `nonce`."""

    signer: Address
    nonce: int
    success: bool


def _raw(value: str | bytes) -> bytes:
    """JSON-RPC's 0x-hex, or web3's bytes (HexBytes), as bytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def decode_executed(log: Mapping[str, Any]) -> ExecutedRequest | None:
    """The request an `eth_getLogs` or receipt log reports, or None for any other log."""
    topics = log.get("topics") or []
    if len(topics) != 2 or _raw(topics[0]) != _raw(_EXECUTED_TOPIC):
        return None
    nonce, success = decode(["uint256", "bool"], _raw(log["data"]))
    return ExecutedRequest(checksum(_raw(topics[1])[-20:]), int(nonce), bool(success))


@dataclass(frozen=True)
class ForwardBatchKind(BatchKind):
    """The relayer's view of staff requests, shaped like a resident kind's `BatchKind`: `item`,
    `encode_batch` and `encode_check` (`verify`) work the same. What differs: `executeBatch` takes a
    refund receiver (set it with `for_relayer`), returns no failure mask (read `decode_executed`
    from the logs: a request without a log was skipped, one with success=false ran and failed), and
    its event's topic 1 is the signer, not a digest."""

    refund_receiver: str | None = None

    def for_relayer(self, relayer: str) -> ForwardBatchKind:
        return replace(self, refund_receiver=checksum(relayer))

    @cached_property
    def recorded_topic(self) -> str:
        return _EXECUTED_TOPIC

    @cached_property
    def selector(self) -> bytes:
        return _EXECUTE_BATCH

    def encode_batch(self, actions: list[Action], refund_receiver: str | None = None) -> bytes:
        return self.selector + self._encode(actions, refund_receiver)

    def generic_encode(self, actions: list[Action]) -> bytes:
        return self._encode(actions, None)

    def _encode(self, actions: list[Action], refund_receiver: str | None) -> bytes:
        receiver = refund_receiver or self.refund_receiver
        if receiver is None:
            raise ValueError("no refund receiver: use for_relayer(relayer address) first")
        items = [(json.loads(a.message), bytes.fromhex(a.signature[2:])) for a in actions]
        return encode_execute_batch(items, receiver)[4:]

    def encode_execute(self, action: Action) -> bytes:
        return encode_execute(json.loads(action.message), bytes.fromhex(action.signature[2:]))

    @staticmethod
    def decode_failed_mask(result: str) -> int:
        raise TypeError(
            "executeBatch returns nothing: read its ExecutedForwardRequest logs (decode_executed)"
        )

    @staticmethod
    def decode_reason(result: str) -> bytes:
        raise TypeError("verify answers a bool, not a reason: use decode_verified")

    @staticmethod
    def decode_verified(result: str) -> bool:
        return bool(decode(["bool"], bytes.fromhex(result[2:]))[0])


BATCH = ForwardBatchKind(
    kind="staff",
    contract=FORWARDER,
    function="executeBatch",
    item_type=REQUEST_DATA_TYPE,
    encode_item=request_data,
    recorded_event="ExecutedForwardRequest",
    check_function="verify",
    max_batch=MAX_BATCH,
    digest_topic=1,  # the signer: match a log to its request by (signer, nonce), see decode_executed
)
