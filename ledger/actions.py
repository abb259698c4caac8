"""Residents' actions: payload models, `prepare` (typed data to sign) and `verify` (a signed submission).

A submission is accepted only if its typed data is exactly what this ledger would have prepared for
the deployment it runs (same types, domain, chain id and contract), every field is in range, and the
signature is the resident's (ECDSA, or ERC-1271 for smart-account residents).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .eip712 import ACTION_TYPES, ACTION_TYPES_BY_PRIMARY, ActionType, normalize_signature, recover
from .errors import InvalidActionError, InvalidSignatureError, UnsupportedActionError
from .types import Address, checksum, parse_checksummed

UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1  # uint64 fields stop here: SQL integers are signed 64-bit


def _int_or_decimal_string(value: Any) -> Any:
    # Wallets may hand uints back as decimal strings; bools and floats are refused.
    if isinstance(value, bool | float):
        raise ValueError("expected an integer")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _address(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a 0x-prefixed 20-byte hex address")
    return parse_checksummed(value)


def _bytes32(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise ValueError("expected 0x followed by 64 hex digits")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise ValueError("expected 0x followed by 64 hex digits") from None
    return value.lower()


Uint16 = Annotated[int, BeforeValidator(_int_or_decimal_string), Field(strict=True, ge=0, le=2**16 - 1)]
Uint32 = Annotated[int, BeforeValidator(_int_or_decimal_string), Field(strict=True, ge=0, le=UINT32_MAX)]
Uint64 = Annotated[int, BeforeValidator(_int_or_decimal_string), Field(strict=True, ge=0, le=INT64_MAX)]
AddressStr = Annotated[str, BeforeValidator(_address)]
Bytes32 = Annotated[str, BeforeValidator(_bytes32)]


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
    """The signed EIP-712 message: the payload plus resident, nonce and deadline."""

    resident: AddressStr
    nonce: Uint64
    deadline: Uint64


class FeedbackPayload(BaseModel):
    """An opinion for the virtual mayor's office: the text stays off-chain, its hash is signed."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=64)
    content: str = Field(min_length=1, max_length=4000)
    areaCode: Uint32 = 0

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class FeedbackMessage(BaseModel):
    """The signed EIP-712 `Feedback` message."""

    model_config = ConfigDict(extra="forbid")

    resident: AddressStr
    category: Uint16
    areaCode: Uint32
    contentHash: Bytes32
    nonce: Uint64
    deadline: Uint64


PAYLOADS: dict[str, type[BaseModel]] = {"plogging": PloggingPayload, "feedback": FeedbackPayload}
MESSAGES: dict[str, type[BaseModel]] = {"plogging": PloggingMessage, "feedback": FeedbackMessage}


def _validation_error(exc: ValidationError, prefix: str) -> InvalidActionError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "")
    problem = "is required" if first["type"] == "missing" else first["msg"]
    return InvalidActionError(problem, field=where)


def parse_address(value: Any, *, field: str) -> Address:
    try:
        return Address(_address(value))
    except ValueError as exc:
        raise InvalidActionError(str(exc), field=field) from None


def action_type(kind: str) -> ActionType:
    if kind not in PAYLOADS:
        raise UnsupportedActionError(
            f"unknown kind {kind!r}; this ledger records {sorted(PAYLOADS)}", field="kind"
        )
    return ACTION_TYPES[kind]


def parse_payload(kind: str, payload: Any) -> dict[str, Any]:
    action_type(kind)
    try:
        return PAYLOADS[kind].model_validate(payload).model_dump()
    except ValidationError as exc:
        raise _validation_error(exc, "payload") from None


@dataclass(frozen=True)
class VerifiedAction:
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


Erc1271Check = Callable[[str, bytes, bytes], bool]


@functools.lru_cache(maxsize=64)
def _expected(spec: ActionType, chain_id: int, address: str) -> dict[str, Any]:
    """The types and domain this deployment prepares (read-only; cached, it is the same every time)."""
    return spec.typed_data(chain_id, address, {})


def verify_submission(
    typed_data: Any,
    signature: Any,
    *,
    chain_id: int,
    contracts: dict[str, str],
    now: int,
    erc1271: Erc1271Check | None = None,
) -> VerifiedAction:
    """Checks a signed submission against this deployment; raises an ActionError naming the field."""
    if not isinstance(typed_data, dict):
        raise InvalidActionError("expected an eth_signTypedData_v4 object", field="typedData")
    for key in ("types", "primaryType", "domain", "message"):
        if key not in typed_data:
            raise InvalidActionError("is required", field=f"typedData.{key}")
    spec = ACTION_TYPES_BY_PRIMARY.get(typed_data["primaryType"])
    if spec is None:
        raise UnsupportedActionError(
            f"unknown primary type {typed_data['primaryType']!r}", field="typedData.primaryType"
        )
    if spec.kind not in MESSAGES:
        raise UnsupportedActionError(
            f"{spec.primary_type} actions are not accepted here yet; this ledger records {sorted(MESSAGES)}",
            field="typedData.primaryType",
        )
    address = contracts.get(spec.contract)
    if address is None:
        raise UnsupportedActionError(f"{spec.contract} is not deployed here", field="typedData.primaryType")
    expected = _expected(spec, chain_id, address)
    if typed_data["types"] != expected["types"]:
        raise InvalidActionError(f"must be exactly {json.dumps(expected['types'])}", field="typedData.types")
    domain = typed_data["domain"]
    if not isinstance(domain, dict):
        raise InvalidActionError("expected an object", field="typedData.domain")
    for key, want in expected["domain"].items():
        got = domain.get(key)
        same = (
            isinstance(got, str) and got.lower() == str(want).lower()
            if key == "verifyingContract"
            else got == want or (key == "chainId" and isinstance(got, str) and got == str(want))
        )
        if not same:
            raise InvalidActionError(f"expected {want!r}, got {got!r}", field=f"typedData.domain.{key}")
    if set(domain) != set(expected["domain"]):
        raise InvalidActionError("has unexpected keys", field="typedData.domain")
    try:
        message = MESSAGES[spec.kind].model_validate(typed_data["message"]).model_dump()
    except ValidationError as exc:
        raise _validation_error(exc, "typedData.message") from None
    if message["deadline"] <= now:
        raise InvalidActionError(
            f"passed at {message['deadline']} (now {now})", field="typedData.message.deadline"
        )
    if not isinstance(signature, str):
        raise InvalidActionError("expected a 0x-prefixed hex string", field="signature")
    digest = spec.digest(chain_id, address, message)
    resident = Address(message["resident"])
    try:
        sig = normalize_signature(signature)
        signer: str | None = recover(digest, sig)
    except InvalidSignatureError:
        if erc1271 is None:
            raise
        sig, signer = bytes.fromhex(signature[2:]), None
    if signer != resident and (erc1271 is None or not erc1271(resident, digest, sig)):
        who = f"signed by {signer}" if signer else "not a valid ECDSA signature"
        raise InvalidSignatureError(f"{who}, not by the resident {resident}", field="signature")
    return VerifiedAction(
        id="0x" + digest.hex(),
        kind=spec.kind,
        contract=checksum(address),
        resident=resident,
        nonce=message["nonce"],
        deadline=message["deadline"],
        message=message,
        signature="0x" + sig.hex(),
    )
