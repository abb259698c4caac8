"""Causes outside the actions: what makes a whole batch fail whatever entries it holds.

A paused contract (the token's `EnforcedPause`, `CommunityRewardsTokenPaused`), a relayer key or
a contract without the role it needs (`AccessControlUnauthorizedAccount`), a batch the relayer
built too large, a node that refuses or cannot be reached. While one holds, actions wait in the
queue: none fails for it and no attempt is counted. `outside` reads a revert's custom error;
`probes` ask the chain directly (each deployed contract's `paused()`, the key's role on the
target), so a cause is found even when the revert does not name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_hash.auto import keccak

from ..chain.revert import ErrorDecoder
from ..deploy import Deployment

PAUSED = "0x5c975abb"  # Pausable.paused()
HAS_ROLE = "0x91d14854"  # AccessControl.hasRole(bytes32,address)
RELAYER_ROLE = keccak(b"RELAYER_ROLE").hex()
# Custom errors that say nothing about the entries: the batch fails whatever it holds.
_OUTSIDE = frozenset({"EnforcedPause", "AccessControlUnauthorizedAccount", "SignedActionsBatchSize"})


class Causes:
    def __init__(self, deployment: Deployment, decoder: ErrorDecoder) -> None:
        self.decoder = decoder
        self.deployment = deployment
        self._pausable = [
            (name, c.address)
            for name, c in deployment.contracts.items()
            if any(
                item.get("type") == "function" and item.get("name") == "paused" and not item.get("inputs")
                for item in c.abi
            )
        ]

    def outside(self, data: bytes | None) -> str | None:
        """The revert's error, if it names a cause outside the entries (a pause, a missing role)."""
        if not data or len(data) < 4:
            return None
        error = self.decoder.decode(data)
        if error.name in _OUTSIDE or error.name.endswith("Paused"):
            return str(error)
        return None

    def probes(self, *, target: str, sender: str) -> list[tuple[str, Sequence[Any]]]:
        calls: list[tuple[str, Sequence[Any]]] = [
            ("eth_call", [{"to": address, "data": PAUSED}, "latest"]) for _, address in self._pausable
        ]
        role = HAS_ROLE + RELAYER_ROLE + sender[2:].lower().rjust(64, "0")
        calls.append(("eth_call", [{"to": target, "data": role}, "latest"]))
        return calls

    def probed(self, replies: Sequence[Any], *, target: str, sender: str) -> str | None:
        """What the probes' replies say is wrong, if anything (an unanswered probe says nothing)."""
        for (name, _), reply in zip(self._pausable, replies, strict=False):
            if _true(reply):
                return f"{name} is paused"
        role = replies[len(self._pausable)] if len(replies) > len(self._pausable) else None
        if isinstance(role, str) and len(role) > 2 and not _true(role):
            name = next(
                (n for n, c in self.deployment.contracts.items() if c.address.lower() == target.lower()),
                target,
            )
            return f"{sender} lacks RELAYER_ROLE on {name}"
        return None


def _true(reply: Any) -> bool:
    if not isinstance(reply, str) or not reply.startswith("0x") or len(reply) <= 2:
        return False
    try:
        return int(reply, 16) != 0
    except ValueError:
        return False
