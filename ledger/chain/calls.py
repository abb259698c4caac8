"""Read-only contract calls by signature: `view(rpc, to, "balanceOf(address)", [who], ["uint256"])`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

from eth_abi.abi import decode, encode
from eth_hash.auto import keccak


class _Calls(Protocol):
    def call(self, method: str, params: Sequence[Any] = ()) -> Any: ...


@functools.lru_cache(maxsize=256)
def selector(signature: str) -> bytes:
    """The 4-byte function selector of `name(type,…)`."""
    return keccak(signature.encode())[:4]


def _arg_types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    out, depth, start = [], 0, 0
    for i, c in enumerate(inner):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(inner[start:i])
            start = i + 1
    if inner:
        out.append(inner[start:])
    return out


def calldata(signature: str, args: Sequence[Any] = ()) -> str:
    return "0x" + (selector(signature) + encode(_arg_types(signature), list(args))).hex()


def view(
    rpc: _Calls, to: str, signature: str, args: Sequence[Any], returns: Sequence[str]
) -> tuple[Any, ...]:
    """Calls a view function at the latest block and decodes its return values."""
    result = rpc.call("eth_call", [{"to": to, "data": calldata(signature, args)}, "latest"])
    return tuple(decode(list(returns), bytes.fromhex(str(result)[2:])))
