"""A resident's signed, not yet submitted redemption as a QR payload a shop's camera reads.

`esg:redeem:v1:` and the base64url (no padding) of a fixed binary layout, ~300 characters for an
ECDSA signature (QR version 10 or so, readable by any phone):

    chainId u64 · verifyingContract 20 · resident 20 · partner 20 · offerHash 32 · nonce u64 ·
    deadline u64 · amount length u8 · amount (big-endian, no leading zero byte) · signature

The domain's name and version and the EIP-712 types are the `Redemption` type's own (v1 names
them), so `decode` rebuilds the typed data exactly as `prepare` hands it out. Nothing here
verifies anything: whoever accepts a request runs it through `intake.verify_submission`, the same
check as `POST /v1/actions`. Decoding is strict: one spelling per request (canonical base64url, a
minimal amount), so a request cannot be altered without changing its bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .eip712 import signature_bytes
from .errors import InvalidActionError
from .kinds._fields import address
from .kinds.rewards import REDEMPTION, RedemptionMessage
from .types import Address, checksum

__all__ = ["MAX_REQUEST_CHARS", "MAX_SIGNATURE_BYTES", "PREFIX", "RedemptionRequest", "decode", "encode"]

PREFIX = "esg:redeem:v1:"
# ECDSA is 65 bytes; a smart account's ERC-1271 signature may be longer. 256 bytes keeps the
# whole payload at 554 characters at most, which a phone still reads from a screen.
MAX_SIGNATURE_BYTES = 256
_FIXED = 8 + 20 + 20 + 20 + 32 + 8 + 8 + 1
MAX_REQUEST_CHARS = len(PREFIX) + -(-(_FIXED + 32 + MAX_SIGNATURE_BYTES) * 4 // 3)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
FIELD = "request"


@dataclass(frozen=True)
class RedemptionRequest:
    """A decoded request: the deployment it is for, the signed message and the signature."""

    chain_id: int
    contract: Address
    message: dict[str, Any]  # resident, partner, amount, offerHash, nonce, deadline, as prepared
    signature: str  # 0x hex

    def typed_data(self) -> dict[str, Any]:
        """The eth_signTypedData_v4 object the resident signed, as `prepare` produced it."""
        return REDEMPTION.typed_data(self.chain_id, self.contract, self.message)

    def submission(self) -> dict[str, Any]:
        """The body `POST /v1/actions` takes for the same action."""
        return {"typedData": self.typed_data(), "signature": self.signature}


def _refuse(problem: str, field: str = FIELD) -> InvalidActionError:
    return InvalidActionError(problem, field=field)


def _message(message: Any) -> dict[str, Any]:
    try:
        parsed = RedemptionMessage.model_validate(message).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("typedData.message", *first["loc"]))
        raise _refuse("is required" if first["type"] == "missing" else first["msg"], where) from None
    return {name: parsed[name] for name, _ in REDEMPTION.fields}  # prepare's order


def encode(typed_data: Any, signature: Any) -> str:
    """The QR payload of a signed redemption (typed data as prepared, and its signature)."""
    if not isinstance(typed_data, dict):
        raise _refuse("expected an eth_signTypedData_v4 object", "typedData")
    if typed_data.get("primaryType") != REDEMPTION.primary_type:
        raise _refuse(f"expected {REDEMPTION.primary_type!r}", "typedData.primaryType")
    domain = typed_data.get("domain")
    if not isinstance(domain, dict):
        raise _refuse("expected an object", "typedData.domain")
    for key in ("name", "version"):
        want = REDEMPTION.domain(1, "0x" + "00" * 20)[key]
        if domain.get(key) != want:
            raise _refuse(f"expected {want!r}", f"typedData.domain.{key}")
    chain_id = domain.get("chainId")
    if type(chain_id) is not int or not 0 < chain_id < 2**64:
        raise _refuse("expected an integer chain id", "typedData.domain.chainId")
    try:
        contract = bytes.fromhex(address(domain.get("verifyingContract"))[2:])
    except ValueError as exc:
        raise _refuse(str(exc), "typedData.domain.verifyingContract") from None
    if typed_data.get("types") != REDEMPTION.typed_data(chain_id, "0x" + contract.hex(), {})["types"]:
        raise _refuse("must be exactly the Redemption types prepare hands out", "typedData.types")
    m = _message(typed_data.get("message"))
    sig = signature_bytes(signature)
    if len(sig) > MAX_SIGNATURE_BYTES:
        raise _refuse(f"at most {MAX_SIGNATURE_BYTES} bytes fit a QR request", "signature")
    amount = m["amount"].to_bytes((m["amount"].bit_length() + 7) // 8, "big")
    raw = b"".join(
        [
            chain_id.to_bytes(8, "big"),
            contract,
            bytes.fromhex(m["resident"][2:]),
            bytes.fromhex(m["partner"][2:]),
            bytes.fromhex(m["offerHash"][2:]),
            m["nonce"].to_bytes(8, "big"),
            m["deadline"].to_bytes(8, "big"),
            bytes([len(amount)]),
            amount,
            sig,
        ]
    )
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(payload: Any) -> RedemptionRequest:
    """The request a QR payload carries; InvalidActionError (field `request`) if it is not one."""
    if not isinstance(payload, str) or not payload.startswith(PREFIX):
        raise _refuse(f"expected a redemption request: {PREFIX}<base64url>")
    if len(payload) > MAX_REQUEST_CHARS:
        raise _refuse(f"at most {MAX_REQUEST_CHARS} characters")
    body = payload[len(PREFIX) :]
    if not _BASE64URL.fullmatch(body):
        raise _refuse("expected base64url (A-Z a-z 0-9 - _) without padding after the prefix")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise _refuse("not valid base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != body:
        raise _refuse("not canonical base64url")
    if len(raw) < _FIXED:
        raise _refuse(f"too short: {len(raw)} bytes, a request has at least {_FIXED + 1 + 65}")
    at = 0

    def take(n: int) -> bytes:
        nonlocal at
        chunk, at = raw[at : at + n], at + n
        return chunk

    chain_id = int.from_bytes(take(8), "big")
    contract, resident, partner = (checksum(take(20)) for _ in range(3))
    offer = "0x" + take(32).hex()
    nonce, deadline = int.from_bytes(take(8), "big"), int.from_bytes(take(8), "big")
    amount_len = take(1)[0]
    amount_bytes = take(amount_len)
    if not 1 <= amount_len <= 32 or len(amount_bytes) != amount_len or amount_bytes[0] == 0:
        raise _refuse("the amount is not a minimal 1 to 32 byte integer")
    signature = raw[at:]
    if not 1 <= len(signature) <= MAX_SIGNATURE_BYTES:
        raise _refuse(f"the signature must be 1 to {MAX_SIGNATURE_BYTES} bytes, got {len(signature)}")
    fields = {
        "resident": resident,
        "partner": partner,
        "amount": int.from_bytes(amount_bytes, "big"),
        "offerHash": offer,
        "nonce": nonce,
        "deadline": deadline,
    }
    try:
        message = _message(fields)
    except InvalidActionError as exc:
        raise _refuse(f"{exc.field}: {exc.message}") from None
    if chain_id == 0:
        raise _refuse("the chain id is 0")
    return RedemptionRequest(
        chain_id=chain_id, contract=contract, message=message, signature="0x" + signature.hex()
    )
