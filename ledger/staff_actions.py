"""Staff members' own calls, signed by them and relayed through the StaffForwarder (ERC-2771).

    prepare_call  (contract, function, args) ─▶ on the allow-list? ─▶ calldata from the deployment's
                  ABI ─▶ simulated as the forwarder will make it (the member's queued requests
                  first, then this call with their address appended) ─▶ a revert is refused here,
                  with its decoded custom error, and costs no gas ─▶ nonce, gas, deadline
                  ─▶ the `eth_signTypedData_v4` object
    verify_call   the typed data exactly as prepared (types, domain, strict fields), a deadline
                  ahead, the inner target and selector on the allow-list, the signature recovers
                  to `from` ─▶ a `VerifiedAction` of kind "staff" for the outbox
    accept_call   stores it (idempotent by digest); the relayer sends it (docs/relayer.md)

In the outbox a staff request is an `action` row: kind "staff", contract = the forwarder, resident
= the staff member, nonce = the forwarder nonce, id = the request's EIP-712 digest. Its nonce is
the forwarder's `nonces(staff)`, or one past the member's highest request still queued or
submitted: a member's requests run strictly in nonce order, so several may wait at once. Prepare
reserves nothing: two prepares before either is submitted get the same nonce, and the relayer
fails the later of the two ("sign again"). Staff requests are not counted against residents' rate
limits: staff are authenticated and authorized by their roles before anything is prepared.

Errors (all `ActionError`, so the API answers 4xx naming the field):
    UnsupportedActionError   not a staff function, or its contract is not deployed here
    InvalidActionError       an argument that does not fit its ABI type; a typed data field
    InvalidSignatureError    the signature is not `from`'s
    StaffCallRefusedError    the call would revert on chain now (no role, wrong status, …)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import encode
from sqlmodel import Session, col, select

from .chain.revert import ErrorDecoder
from .eip712 import DOMAIN_FIELDS, normalize_signature
from .enrolment_requests import note_enrolment_requests
from .errors import (
    ActionError,
    ContractRevertError,
    InvalidActionError,
    InvalidSignatureError,
    RpcError,
    UnsupportedActionError,
)
from .intake import check_domain
from .kinds import ChainCalls, VerifiedAction
from .kinds import staff as forward
from .kinds._fields import address as parse_address
from .kinds._fields import text as parse_text
from .models import Action, ActionStatus
from .outbox import Accepted, accept_actions
from .types import Address, checksum

__all__ = [
    "KIND",
    "StaffCallRefusedError",
    "accept_call",
    "encode_call",
    "pending_requests",
    "prepare_call",
    "verify_call",
]

KIND = forward.BATCH.kind  # "staff"
_METHOD_NOT_FOUND = -32601


class StaffCallRefusedError(ActionError):
    """The call would revert on chain now; `error` is its decoded custom error, if it has one."""

    code = "call_reverts"
    status = 409  # the call is well formed; the chain's state refuses it now

    def __init__(self, message: str, *, field: str | None, error: ContractRevertError | None = None) -> None:
        self.error = error
        super().__init__(message, field=field)


# -- encoding the inner call ------------------------------------------------------------------------


def _abi_type(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + kind[5:]
    return kind


_ARRAY = re.compile(r"^(.*)\[(\d*)\]$")
_INT = re.compile(r"^(u?)int(\d*)$")
_FIXED_BYTES = re.compile(r"^bytes(\d+)$")


def _coerce(item: Mapping[str, Any], value: Any, where: str) -> Any:
    """`value` (JSON) as eth_abi takes it for ABI parameter `item`; InvalidActionError names `where`."""
    kind = str(item["type"])
    try:
        return _coerce_type(item, kind, value, where)
    except ValueError as exc:
        raise InvalidActionError(
            f"{exc} (ABI type {_abi_type({**item, 'type': kind})})", field=where
        ) from None


def _coerce_type(item: Mapping[str, Any], kind: str, value: Any, where: str) -> Any:
    if array := _ARRAY.match(kind):
        if not isinstance(value, list):
            raise ValueError("expected a JSON array")
        if array.group(2) and len(value) != int(array.group(2)):
            raise ValueError(f"expected exactly {array.group(2)} items")
        inner = {**item, "type": array.group(1)}
        return [_coerce(inner, v, f"{where}.{i}") for i, v in enumerate(value)]
    if kind == "tuple":
        components = item["components"]
        if isinstance(value, dict):
            names = [c["name"] for c in components]
            if set(value) != set(names):
                raise ValueError(f"expected exactly the keys {names}")
            value = [value[n] for n in names]
        if not isinstance(value, list) or len(value) != len(components):
            raise ValueError(f"expected an array of {len(components)} items, or an object")
        return tuple(
            _coerce(c, v, f"{where}.{c['name'] or i}")
            for i, (c, v) in enumerate(zip(components, value, strict=True))
        )
    if kind == "address":
        return parse_address(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return parse_text(value)
    if kind == "bytes" or (fixed := _FIXED_BYTES.match(kind)):
        size = None if kind == "bytes" else int(fixed.group(1)) if fixed else None
        if not isinstance(value, str) or not re.fullmatch(r"0x(?:[0-9a-fA-F]{2})*", value):
            raise ValueError("expected 0x followed by an even number of hex digits")
        raw = bytes.fromhex(value[2:])
        if size is not None and len(raw) != size:
            raise ValueError(f"expected 0x followed by exactly {2 * size} hex digits")
        return raw
    if number := _INT.match(kind):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("expected an integer")
        if isinstance(value, str):
            if not re.fullmatch(r"-?[0-9]{1,78}", value):
                raise ValueError("expected an integer, or a string of decimal digits")
            value = int(value)
        bits = int(number.group(2) or 256)
        low, high = (0, 2**bits - 1) if number.group(1) else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not low <= value <= high:
            raise ValueError(f"out of range {low}..{high}")
        return value
    raise ValueError(f"the type {kind} is not supported")


def _function_item(abis: Mapping[str, Sequence[Mapping[str, Any]]], spec: forward.StaffFunction) -> Any:
    for item in abis.get(spec.contract, ()):
        if item.get("type") == "function" and item.get("name") == spec.name:
            signature = f"{spec.name}({','.join(_abi_type(i) for i in item['inputs'])})"
            if signature == spec.signature:
                return item
    raise UnsupportedActionError(
        f"the deployment's {spec.contract} has no {spec.signature}", field="function"
    )


def encode_call(
    abis: Mapping[str, Sequence[Mapping[str, Any]]], spec: forward.StaffFunction, args: Any
) -> bytes:
    """The calldata of `spec` with `args` (a JSON array, in the ABI's order), from the deployment's ABI."""
    item = _function_item(abis, spec)
    inputs = item["inputs"]
    if not isinstance(args, list):
        raise InvalidActionError("expected a JSON array of the function's arguments", field="args")
    if len(args) != len(inputs):
        names = [i["name"] or i["type"] for i in inputs]
        raise InvalidActionError(f"{spec.signature} takes {len(inputs)} arguments {names}", field="args")
    values = [_coerce(i, a, f"args.{n}") for n, (i, a) in enumerate(zip(inputs, args, strict=True))]
    return spec.selector + encode([_abi_type(i) for i in inputs], values)


# -- prepare ----------------------------------------------------------------------------------------


def pending_requests(*, session: Session, forwarder: str, staff: str) -> list[Action]:
    """The member's staff requests still queued or submitted, by nonce (oldest first for a tie)."""
    return list(
        session.exec(
            select(Action)
            .where(
                Action.kind == KIND,
                Action.contract == checksum(forwarder),
                Action.resident == checksum(staff),
                col(Action.status).in_([ActionStatus.QUEUED, ActionStatus.SUBMITTED]),
            )
            .order_by(col(Action.nonce), col(Action.created_at))
        ).all()
    )


def _refusal(
    decoder: ErrorDecoder, data: bytes | None, why: str, spec: forward.StaffFunction
) -> StaffCallRefusedError:
    if not data:
        return StaffCallRefusedError(
            f"{spec.contract}.{spec.name} would fail on chain: {why}", field="function"
        )
    error = decoder.decode(data)
    return StaffCallRefusedError(
        f"{spec.contract}.{spec.name} would revert on chain with {forward.explain(error)}",
        field="function",
        error=error,
    )


def _simulate(
    rpc: ChainCalls, earlier: list[dict[str, Any]], call: dict[str, Any]
) -> tuple[bool, bytes | None, str, int]:
    """(ran without revert, revert data, the node's words, gas used) of `call` after `earlier`."""
    try:
        result = rpc.call(
            "eth_simulateV1",
            [{"blockStateCalls": [{"calls": [*earlier, call]}], "validation": False}, "latest"],
        )
    except RpcError as exc:
        if exc.code != _METHOD_NOT_FOUND and "not supported" not in exc.rpc_message.lower():
            raise
    else:
        last = result[0]["calls"][-1]
        if int(last["status"], 16) != 1:
            data = str(last.get("returnData") or "0x")
            message = str((last.get("error") or {}).get("message", "execution reverted"))
            return False, bytes.fromhex(data[2:]), message, 0
        return True, None, "", int(last["gasUsed"], 16)
    # A node without eth_simulateV1: this call alone, at the latest block.
    try:
        rpc.call("eth_call", [call, "latest"])
        return True, None, "", int(rpc.call("eth_estimateGas", [call]), 16)
    except RpcError as exc:
        data = exc.data if isinstance(exc.data, str) and exc.data.startswith("0x") else "0x"
        return False, bytes.fromhex(data[2:]), exc.rpc_message, 0


def prepare_call(
    *,
    session: Session,
    rpc: ChainCalls,
    chain_id: int,
    contracts: Mapping[str, str],
    abis: Mapping[str, Sequence[Mapping[str, Any]]],
    staff: str,
    contract: str,
    function: str,
    args: Any,
    now: int,
    ttl: int,
    unsigned: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The typed data for `staff` to call `contract.function(*args)` through the forwarder; refuses a
    call off the allow-list, with arguments that do not fit, or that would revert now. `unsigned`:
    the member's requests prepared just before this one and not yet submitted (a bulk of a wallet
    member, signed together): this one takes the nonce after theirs and runs after them."""
    spec = forward.staff_function(contract, function) if isinstance(contract, str) else None
    if spec is None:
        if not isinstance(contract, str) or not any(f.contract == contract for f in forward.STAFF_FUNCTIONS):
            known = sorted({f.contract for f in forward.STAFF_FUNCTIONS})
            raise UnsupportedActionError(
                f"unknown contract {contract!r}; staff call {known}", field="contract"
            )
        names = sorted(f.name for f in forward.STAFF_FUNCTIONS if f.contract == contract)
        raise UnsupportedActionError(
            f"{function!r} is not a staff function of {contract}; these are {names}", field="function"
        )
    forwarder, target = contracts.get(forward.FORWARDER), contracts.get(contract)
    if forwarder is None or target is None:
        missing = forward.FORWARDER if forwarder is None else contract
        raise UnsupportedActionError(f"{missing} is not deployed here", field="contract")
    who = checksum(staff)
    data = encode_call(abis, spec, args)
    if len(data) > forward.MAX_DATA_BYTES:
        raise InvalidActionError(f"the call is over {forward.MAX_DATA_BYTES} bytes", field="args")
    chain_next = forward.next_nonce(rpc, forwarder, who)
    earlier = [
        a for a in pending_requests(session=session, forwarder=forwarder, staff=who) if a.nonce >= chain_next
    ]
    ahead = [forward.message(m) for m in unsigned if checksum(str(m.get("from"))) == who]
    highest = max([a.nonce for a in earlier] + [int(m["nonce"]) for m in ahead], default=-1)
    nonce = max(chain_next, highest + 1)
    request = {
        "from": who,
        "to": checksum(target),
        "value": 0,
        "gas": forward.MAX_REQUEST_GAS,
        "nonce": nonce,
    }
    request |= {"deadline": now + ttl, "data": "0x" + data.hex()}
    before = [forward.inner_call(forwarder, json.loads(a.message)) for a in _by_nonce(earlier)]
    before += [forward.inner_call(forwarder, m) for m in sorted(ahead, key=lambda m: int(m["nonce"]))]
    ok, revert, why, used = _simulate(rpc, before, forward.inner_call(forwarder, request))
    if not ok:
        raise _refusal(ErrorDecoder([[dict(i) for i in a] for a in abis.values()]), revert, why, spec)
    # The simulated figure includes the transaction's intrinsic 21,000 and calldata: headroom for the
    # 63/64 rule in the call's own sub-calls and a storage refund that only comes back at the end.
    gas = used + used // 4 + 30_000
    if gas > forward.MAX_REQUEST_GAS:
        raise StaffCallRefusedError(
            f"{contract}.{function} needs about {used} gas, more than a staff request may use "
            f"({forward.MAX_REQUEST_GAS})",
            field="args",
        )
    return forward.typed_data(chain_id, forwarder, {**request, "gas": gas})


def _by_nonce(actions: list[Action]) -> list[Action]:
    """One request per nonce (the oldest): a later duplicate will be failed by the relayer."""
    seen: dict[int, Action] = {}
    for a in actions:
        seen.setdefault(a.nonce, a)
    return [seen[n] for n in sorted(seen)]


# -- verify and accept ------------------------------------------------------------------------------


def _expected_types() -> dict[str, Any]:
    return {
        "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
        "ForwardRequest": [{"name": n, "type": t} for n, t in forward.FORWARD_REQUEST_FIELDS],
    }


def verify_call(
    typed_data: Any, signature: Any, *, chain_id: int, contracts: Mapping[str, str], now: int
) -> VerifiedAction:
    """A signed staff request checked against this deployment; raises an ActionError naming the field."""
    if not isinstance(typed_data, dict):
        raise InvalidActionError("expected an eth_signTypedData_v4 object", field="typedData")
    for key in ("types", "primaryType", "domain", "message"):
        if key not in typed_data:
            raise InvalidActionError("is required", field=f"typedData.{key}")
    if set(typed_data) != {"types", "primaryType", "domain", "message"}:
        raise InvalidActionError("has unexpected keys", field="typedData")
    if typed_data["primaryType"] != "ForwardRequest":
        raise UnsupportedActionError("expected 'ForwardRequest'", field="typedData.primaryType")
    forwarder = contracts.get(forward.FORWARDER)
    if forwarder is None:
        raise UnsupportedActionError(f"{forward.FORWARDER} is not deployed here", field="typedData.domain")
    expected_types = _expected_types()
    if typed_data["types"] != expected_types:
        raise InvalidActionError(f"must be exactly {expected_types}", field="typedData.types")
    check_domain(typed_data["domain"], forward.domain(chain_id, forwarder))
    try:
        m = forward.message(typed_data["message"]) if isinstance(typed_data["message"], dict) else None
    except InvalidActionError as exc:
        raise InvalidActionError(exc.message, field=f"typedData.{exc.field}") from None
    if m is None:
        raise InvalidActionError("expected an object", field="typedData.message")
    if m["deadline"] <= now:
        raise InvalidActionError(f"passed at {m['deadline']} (now {now})", field="typedData.message.deadline")
    data = bytes.fromhex(m["data"][2:])
    allowed = forward.allowed_calls(contracts)
    if (m["to"].lower(), data[:4]) not in allowed:
        if not any(to == m["to"].lower() for to, _ in allowed):
            raise UnsupportedActionError(
                "is not a ledger contract staff may call", field="typedData.message.to"
            )
        raise UnsupportedActionError(
            f"selector 0x{data[:4].hex()} is not a staff function of its contract",
            field="typedData.message.data",
        )
    normalized = normalize_signature(signature) if isinstance(signature, str) else None
    if normalized is None:
        raise InvalidSignatureError("expected 0x followed by 130 hex digits", field="signature")
    signer = forward.signer(chain_id, forwarder, m, signature)
    if signer != m["from"]:
        raise InvalidSignatureError(
            f"signed by {signer}, not by the staff member {m['from']}", field="signature"
        )
    return VerifiedAction(
        id=forward.request_id(chain_id, forwarder, m),
        kind=KIND,
        contract=checksum(forwarder),
        resident=Address(m["from"]),
        nonce=m["nonce"],
        deadline=m["deadline"],
        message=m,
        signature="0x" + normalized.hex(),
    )


def accept_call(*, session: Session, action: VerifiedAction) -> Accepted:
    """Stores a verified staff request as queued unless it is stored already (same digest); the
    caller commits before answering. No resident limits: staff are authorized by their roles.
    An enrolment request also records whom it enrols (`ledger.enrolment_requests`)."""
    if action.kind != KIND:
        raise UnsupportedActionError(f"expected a {KIND} request, got {action.kind!r}", field="typedData")
    stored = accept_actions(session=session, actions=[action], limits=None)[0]
    assert isinstance(stored, Accepted)  # no limits: nothing is refused
    note_enrolment_requests(session=session, action=action, now=time.time())
    return stored
