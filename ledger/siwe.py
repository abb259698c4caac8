"""Sign-In with Ethereum (EIP-4361): the message, its strict parser, the server's checks and the
signature, for anyone who signs in with a wallet (staff: `ledger.staff.siwe`; residents:
`ledger.resident_sessions`). Each caller keeps its own single-use nonces and sessions.

Why not the `siwe` package: its releases pin web3<8 and eth-account<0.14 (siwe 4.4.0), which this
project has outgrown, so pip cannot install both. The format is small and fixed; this module
follows the EIP's ABNF line by line, refusing anything else (CR, trailing text, a lower-case
address, fields out of order), and checks the same things siwe-py's `verify` does: domain, URI,
version, chain id, nonce, issued-at, expiration and not-before, and the EIP-191 signature
(ECDSA; a smart-contract wallet is asked through ERC-1271 by the caller's `erc1271`).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct
from eth_utils.address import to_checksum_address

from .errors import LedgerError

__all__ = [
    "Erc1271",
    "SiweMessage",
    "SiweRefusedError",
    "challenge",
    "check_message",
    "epoch",
    "new_nonce",
    "origin",
    "signature_ok",
]


class SiweRefusedError(LedgerError):
    """`reason` (malformed_message, wrong_domain, wrong_uri, wrong_chain, expired, …) says why."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


def new_nonce() -> str:
    """A fresh nonce for a message: 128 random bits as 32 hex digits (EIP-4361 wants 8+ alphanumerics)."""
    return secrets.token_hex(16)


_HEADER = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+\-.]*)://)?(?P<domain>[^\s/?#]+)"
    r" wants you to sign in with your Ethereum account:$"
)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,64}$")
_CHAIN_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_MAX_MESSAGE = 4096
# Clocks differ: a message issued up to this far in the future (by the wallet's clock) is still fine.
_SKEW = 60.0

Erc1271 = Callable[[str, bytes, bytes], bool]


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)
    scheme: str | None = None

    def text(self) -> str:
        """The message exactly as EIP-4361 lays it out (what the wallet shows and signs)."""
        prefix = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [f"{prefix} wants you to sign in with your Ethereum account:", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        lines += [
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        for label, value in (
            ("Expiration Time", self.expiration_time),
            ("Not Before", self.not_before),
            ("Request ID", self.request_id),
        ):
            if value is not None:
                lines.append(f"{label}: {value}")
        if self.resources:
            lines += ["Resources:", *(f"- {r}" for r in self.resources)]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Strictly by the EIP's grammar; raises SignInRefusedError("malformed_message") otherwise."""
        try:
            return _parse(text)
        except (ValueError, IndexError) as exc:
            raise SiweRefusedError(
                "malformed_message", f"not a Sign-In with Ethereum message: {exc}"
            ) from None


def _timestamp(value: str, label: str) -> str:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None or "T" not in value:
        raise ValueError(f"{label} must be an RFC 3339 date-time with a time zone")
    return value


def epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _parse(text: str) -> SiweMessage:
    if len(text) > _MAX_MESSAGE or "\r" in text:
        raise ValueError("too long, or CR in it (lines end with LF only)")
    lines = text.split("\n")
    header = _HEADER.match(lines[0])
    if header is None:
        raise ValueError("the first line is not '<domain> wants you to sign in with your Ethereum account:'")
    address = lines[1]
    if not _ADDRESS.match(address) or to_checksum_address(address) != address:
        raise ValueError("the second line must be an EIP-55 checksummed address")
    if lines[2] != "":
        raise ValueError("an empty line must follow the address")
    i = 3
    statement = None
    if lines[i] != "":
        statement = lines[i]
        i += 1
        if lines[i] != "":
            raise ValueError("an empty line must follow the statement")
    i += 1

    def field_(label: str, optional: bool = False) -> str | None:
        nonlocal i
        if i < len(lines) and lines[i].startswith(f"{label}: "):
            i += 1
            return lines[i - 1][len(label) + 2 :]
        if optional:
            return None
        raise ValueError(f"'{label}: …' expected on line {i + 1}")

    uri = field_("URI")
    version = field_("Version")
    chain_id = field_("Chain ID")
    nonce = field_("Nonce")
    issued_at = field_("Issued At")
    assert uri is not None and version is not None and chain_id is not None
    assert nonce is not None and issued_at is not None
    expiration = field_("Expiration Time", optional=True)
    not_before = field_("Not Before", optional=True)
    request_id = field_("Request ID", optional=True)
    resources: list[str] = []
    if i < len(lines) and lines[i] == "Resources:":
        i += 1
        while i < len(lines) and lines[i].startswith("- "):
            resources.append(lines[i][2:])
            i += 1
    if i != len(lines):
        raise ValueError(f"unexpected text on line {i + 1}")
    if version != "1":
        raise ValueError("Version must be 1")
    if not _CHAIN_ID.match(chain_id):
        raise ValueError("Chain ID must be a decimal number")
    if not _NONCE.match(nonce):
        raise ValueError("Nonce must be 8 or more letters and digits")
    if not urlsplit(uri).scheme:
        raise ValueError("URI must be an absolute URI")
    return SiweMessage(
        domain=header["domain"],
        scheme=header["scheme"],
        address=address,
        statement=statement,
        uri=uri,
        version=version,
        chain_id=int(chain_id),
        nonce=nonce,
        issued_at=_timestamp(issued_at, "Issued At"),
        expiration_time=None if expiration is None else _timestamp(expiration, "Expiration Time"),
        not_before=None if not_before is None else _timestamp(not_before, "Not Before"),
        request_id=request_id,
        resources=tuple(resources),
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def check_message(message: SiweMessage, *, domain: str, public_url: str, chain_id: int, now: float) -> None:
    """This server's expectations; raises SignInRefusedError with the reason (wrong_domain, …)."""
    if message.domain.lower() != domain.lower():
        raise SiweRefusedError("wrong_domain", f"this message is for {message.domain}, not {domain}")
    if message.scheme is not None and message.scheme.lower() != urlsplit(public_url).scheme.lower():
        raise SiweRefusedError("wrong_scheme", "the message's scheme is not this server's")
    if origin(message.uri) != origin(public_url):
        raise SiweRefusedError("wrong_uri", f"the message's URI must be on {origin(public_url)}")
    if message.chain_id != chain_id:
        raise SiweRefusedError("wrong_chain", f"the message is for chain {message.chain_id}, not {chain_id}")
    if epoch(message.issued_at) > now + _SKEW:
        raise SiweRefusedError("issued_in_future", "the message's Issued At is in the future")
    if message.expiration_time is not None and now >= epoch(message.expiration_time):
        raise SiweRefusedError("expired", "the message has expired")
    if message.not_before is not None and now < epoch(message.not_before) - _SKEW:
        raise SiweRefusedError("not_yet_valid", "the message is not valid yet (Not Before)")


def signature_ok(text: str, address: str, signature: str, erc1271: Erc1271 | None = None) -> bool:
    """EIP-191 personal_sign by `address`: ECDSA, else (when given) the wallet contract's ERC-1271."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        return False
    if len(raw) > 2048:
        return False
    if len(raw) == 65:
        try:
            if Account.recover_message(encode_defunct(text=text), signature=raw) == address:
                return True
        except Exception:  # eth-keys raises several types for a bad v, r or s
            pass
    return erc1271 is not None and erc1271(address, bytes(defunct_hash_message(text=text)), raw)


def _rfc3339(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def challenge(
    *,
    nonce: str,
    expires_at: float,
    now: float,
    domain: str,
    uri: str,
    chain_id: int,
    statement: str,
    address: str | None,
) -> dict[str, Any]:
    """What a sign-in nonce route answers: the fields this server will check and, when the wallet's
    address is known, the whole message to sign (staff and residents ask for the same shape)."""
    issued_at, expires = _rfc3339(now), _rfc3339(expires_at)
    message = None
    if address is not None:
        message = SiweMessage(
            domain=domain,
            address=to_checksum_address(address),
            statement=statement,
            uri=uri,
            chain_id=chain_id,
            nonce=nonce,
            issued_at=issued_at,
            expiration_time=expires,
        ).text()
    return {
        "nonce": nonce,
        "domain": domain,
        "uri": uri,
        "chainId": chain_id,
        "issuedAt": issued_at,
        "expirationTime": expires,
        "message": message,
    }
