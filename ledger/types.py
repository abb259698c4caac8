"""Domain scalars. Addresses are checksummed strings; digests and hashes 0x-prefixed lowercase hex."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NewType

from eth_utils.address import is_checksum_address, to_checksum_address

Address = NewType("Address", str)
HexHash = NewType("HexHash", str)
ChainId = NewType("ChainId", int)
BlockNumber = NewType("BlockNumber", int)
Points = NewType("Points", int)

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")


@lru_cache(maxsize=1 << 15)
def checksum(value: str | bytes) -> Address:
    """The EIP-55 form of an address (0x-hex in any case, or 20 raw bytes). Each checksum is a
    keccak, and the same residents, relayer keys and contracts come back all day: cached."""
    return Address(to_checksum_address(value))


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@lru_cache(maxsize=1 << 15)
def parse_checksummed(value: str) -> Address:
    """`value` as an address in EIP-55 form; ValueError unless it is exactly `0x` and 40 hex digits,
    all one case or correctly checksummed. (eth-utils' `is_address` also takes no prefix, `0X`,
    and a wrong checksum.) Cached: only valid addresses are remembered."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError("expected 0x followed by 40 hex digits")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise ValueError("mixed-case address with a wrong EIP-55 checksum")
    return checksum(value)
