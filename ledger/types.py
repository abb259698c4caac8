"""Domain scalars. Addresses are checksummed strings; digests and hashes 0x-prefixed lowercase hex."""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", str)
HexHash = NewType("HexHash", str)
ChainId = NewType("ChainId", int)
BlockNumber = NewType("BlockNumber", int)
Points = NewType("Points", int)

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")
