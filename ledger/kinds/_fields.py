"""Strict field parsers for residents' actions: what they accept encodes to exactly the bytes the
contracts check. A hex field is `0x` and exactly the right number of hex digits (no whitespace, no
`0X`, no missing prefix); an integer is a JSON integer or a string of ASCII decimal digits, in range
for its Solidity type; text is valid Unicode without control characters."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from ..types import parse_checksummed

UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1  # uint64 fields stop here: SQL integers are signed 64-bit
UINT256_MAX = 2**256 - 1

_DECIMAL = re.compile(r"[0-9]{1,78}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
# Tab, newline and carriage return are text; every other C0/C1 control character, and NUL above
# all (PostgreSQL text cannot hold it), is refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def integer(value: Any) -> Any:
    """A JSON integer, or a string of ASCII decimal digits (wallets hand uints back as strings)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected an integer")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise ValueError("expected an integer, or a string of decimal digits 0-9")
        return int(value)
    return value


def address(value: Any) -> str:
    """`0x` and 40 hex digits, all one case or correctly EIP-55 checksummed; returned checksummed."""
    if not isinstance(value, str):
        raise ValueError("expected 0x followed by 40 hex digits")
    return parse_checksummed(value)


def bytes32(value: Any) -> str:
    """`0x` and exactly 64 hex digits; returned lowercase."""
    if not isinstance(value, str) or not _BYTES32.fullmatch(value):
        raise ValueError("expected 0x followed by exactly 64 hex digits")
    return value.lower()


def text(value: str) -> str:
    """Unicode text a database stores as it came: no lone surrogates, no control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (other than tab and line breaks)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _uint(le: int, ge: int = 0) -> Any:
    return Field(strict=True, ge=ge, le=le)


# The constraint comes before the parser in each Annotated: pydantic then documents it in the JSON
# Schema (`minimum`/`maximum`) as well as enforcing it after the parser ran.
Uint16 = Annotated[int, _uint(UINT16_MAX), BeforeValidator(integer)]
Uint32 = Annotated[int, _uint(UINT32_MAX), BeforeValidator(integer)]
Uint64 = Annotated[int, _uint(INT64_MAX), BeforeValidator(integer)]
Amount = Annotated[int, _uint(UINT256_MAX, ge=1), BeforeValidator(integer)]
Uint256 = Annotated[int, _uint(UINT256_MAX), BeforeValidator(integer)]
# `format: address` says what a pattern cannot: mixed case must be the EIP-55 checksum.
Address = Annotated[
    str,
    BeforeValidator(address),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{40}$",
            "format": "address",
            "description": "0x and 40 hex digits, all one case or EIP-55 checksummed.",
        }
    ),
]
Bytes32 = Annotated[
    str, BeforeValidator(bytes32), WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"})
]
# No control characters other than tab and line breaks, and not blank.
TEXT_PATTERN = (
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f]"
    "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
)
Text = Annotated[str, AfterValidator(text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
