"""Intake: the first step of the write path (api → intake → outbox → relayer → chain).

`prepare` turns a kind and its payload into the EIP-712 typed data the resident signs (a fresh
nonce, a deadline). `verify_submission` accepts a signed submission only if its typed data is
exactly what this ledger would have prepared for the deployment it runs (same types, domain, chain
id and contract), every field parses strictly, and the signature is the resident's (ECDSA, or
ERC-1271 for smart-account residents). `attach` adds what a kind stores beside the signed fields.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError
from sqlmodel import Session

from .chain.calls import view
from .eip712 import ActionType, normalize_signature, recover, signature_bytes
from .errors import ActionConflictError, InvalidActionError, InvalidSignatureError, UnsupportedActionError
from .kinds import KINDS_BY_PRIMARY, ChainCalls, Kind, PrepareContext, VerifiedAction, kind
from .kinds._fields import address
from .outbox import allocate_resident_nonce
from .types import Address, checksum

__all__ = [
    "EnrolmentCheck",
    "Erc1271Check",
    "VerifiedAction",
    "attach",
    "check_domain",
    "parse_address",
    "prepare",
    "verify_submission",
]

Erc1271Check = Callable[[str, bytes, bytes], bool]


class EnrolmentCheck(Protocol):
    """ESG_ENROLMENT_POLICY for one resident (`ledger.enrolment.EnrolmentGate`): raises
    NotEnrolledError naming `field` when they may not earn."""

    def require(self, resident: str, *, field: str = "resident") -> None: ...


def _validation_error(exc: ValidationError, prefix: str) -> InvalidActionError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "")
    problem = "is required" if first["type"] == "missing" else first["msg"]
    return InvalidActionError(problem, field=where)


def parse_address(value: Any, *, field: str) -> Address:
    try:
        return Address(address(value))
    except ValueError as exc:
        raise InvalidActionError(str(exc), field=field) from None


def parse_payload(spec: Kind, payload: Any) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = spec.payload.model_validate(payload).model_dump()
        return parsed
    except ValidationError as exc:
        raise _validation_error(exc, "payload") from None


def prepare(
    *,
    session: Session,
    rpc: ChainCalls,
    chain_id: int,
    contracts: Mapping[str, str],
    kind_name: str,
    resident: Any,
    payload: Any,
    now: int,
    ttl: int,
    enrolment: EnrolmentCheck | None = None,
) -> dict[str, Any]:
    """The typed data `prepare` hands out: a strictly parsed payload, a fresh nonce, a deadline.
    Commits the session (the nonce, and whatever the kind stored) before returning. `enrolment`
    refuses an unenrolled resident first, before anything is stored."""
    spec = kind(kind_name)
    who = parse_address(resident, field="resident")
    if enrolment is not None:
        enrolment.require(who, field="resident")
    fields = parse_payload(spec, payload)
    contract = contracts.get(spec.eip712.contract)
    if contract is None:
        raise UnsupportedActionError(f"{spec.eip712.contract} is not deployed here", field="kind")
    ctx = PrepareContext(
        session=session, rpc=rpc, chain_id=chain_id, contracts=contracts, resident=who, now=now
    )
    fields = spec.fill(ctx, fields)
    (chain_next, _window) = view(rpc, contract, "nonceWindow(address)", [who], ["uint64", "uint128"])
    nonce = allocate_resident_nonce(session=session, contract=contract, resident=who, chain_next=chain_next)
    session.commit()
    message = {"resident": who, **fields, "nonce": nonce, "deadline": now + ttl}
    return spec.eip712.typed_data(chain_id, contract, message)


@functools.lru_cache(maxsize=64)
def _expected(spec: ActionType, chain_id: int, address: str) -> dict[str, Any]:
    """The types and domain this deployment prepares (read-only; cached, it is the same every time)."""
    return spec.typed_data(chain_id, address, {})


def check_domain(domain: Any, expected: dict[str, Any]) -> None:
    """The typed data's domain is exactly `expected` (a contract's address in one of its exact spellings)."""
    if not isinstance(domain, dict):
        raise InvalidActionError("expected an object", field="typedData.domain")
    for key, want in expected.items():
        got = domain.get(key)
        if key == "verifyingContract":
            same = isinstance(got, str) and got in (want, want.lower(), "0x" + want[2:].upper())
        elif key == "chainId":
            same = (type(got) is int and got == want) or (isinstance(got, str) and got == str(want))
        else:
            same = isinstance(got, str) and got == want
        if not same:
            raise InvalidActionError(f"expected {want!r}, got {got!r}", field=f"typedData.domain.{key}")
    if set(domain) != set(expected):
        raise InvalidActionError("has unexpected keys", field="typedData.domain")


def verify_submission(
    typed_data: Any,
    signature: Any,
    *,
    chain_id: int,
    contracts: Mapping[str, str],
    now: int,
    erc1271: Erc1271Check | None = None,
    enrolment: EnrolmentCheck | None = None,
) -> VerifiedAction:
    """Checks a signed submission against this deployment; raises an ActionError naming the field.
    `enrolment`, last (once the signature is the resident's): refuses an unenrolled resident."""
    if not isinstance(typed_data, dict):
        raise InvalidActionError("expected an eth_signTypedData_v4 object", field="typedData")
    for key in ("types", "primaryType", "domain", "message"):
        if key not in typed_data:
            raise InvalidActionError("is required", field=f"typedData.{key}")
    primary = typed_data["primaryType"]
    spec = KINDS_BY_PRIMARY.get(primary) if isinstance(primary, str) else None
    if spec is None:
        raise UnsupportedActionError(
            f"unknown primary type {primary!r}; expected one of {sorted(KINDS_BY_PRIMARY)}",
            field="typedData.primaryType",
        )
    contract = contracts.get(spec.eip712.contract)
    if contract is None:
        raise UnsupportedActionError(
            f"{spec.eip712.contract} is not deployed here", field="typedData.primaryType"
        )
    expected = _expected(spec.eip712, chain_id, contract)
    if typed_data["types"] != expected["types"]:
        raise InvalidActionError(f"must be exactly {json.dumps(expected['types'])}", field="typedData.types")
    check_domain(typed_data["domain"], expected["domain"])
    try:
        message = spec.message.model_validate(typed_data["message"]).model_dump()
    except ValidationError as exc:
        raise _validation_error(exc, "typedData.message") from None
    if message["deadline"] <= now:
        raise ActionConflictError(
            f"passed at {message['deadline']} (now {now})", field="typedData.message.deadline"
        )
    if spec.check is not None and (problem := spec.check(message, now)) is not None:
        raise ActionConflictError(problem[1], field="typedData.message." + problem[0])
    raw = signature_bytes(signature)
    digest = spec.eip712.digest(chain_id, contract, message)
    resident = Address(message["resident"])
    try:
        sig = normalize_signature(signature)
        signer: str | None = recover(digest, sig)
    except InvalidSignatureError:
        if erc1271 is None:
            raise
        sig, signer = raw, None
    if signer != resident and (erc1271 is None or not erc1271(resident, digest, sig)):
        who = f"signed by {signer}" if signer else "not a valid ECDSA signature"
        raise InvalidSignatureError(f"{who}, not by the resident {resident}", field="signature")
    if enrolment is not None:
        enrolment.require(resident, field="typedData.message.resident")
    return VerifiedAction(
        id="0x" + digest.hex(),
        kind=spec.name,
        contract=checksum(contract),
        resident=resident,
        nonce=message["nonce"],
        deadline=message["deadline"],
        message=message,
        signature="0x" + sig.hex(),
    )


def needs_attach(action: VerifiedAction) -> bool:
    return kind(action.kind).attach is not None


def attach(action: VerifiedAction, *, session: Session, chain_id: int) -> VerifiedAction:
    """The action with what its kind stores beside the signed fields (a claim's Merkle proof)."""
    extra = kind(action.kind).attach
    if extra is None:
        return action
    message = {**action.message, **extra(session, chain_id, action.message)}
    return VerifiedAction(**{**action.__dict__, "message": message})
