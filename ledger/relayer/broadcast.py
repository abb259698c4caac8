"""What a node's answer to `eth_sendRawTransaction` means for the transaction we sent.

Nodes word these differently (geth, Besu, Nethermind, reth, anvil); the phrases below are the
ones they use. Anything unrecognised is treated as transient: the same bytes are sent again later,
which is always safe. Of the rejections, only those about what the transaction carries (its size)
can be an action's fault (`carried`); the rest (gas limit, signature, chain id) are the relayer's
or the node's, and never count against the actions.
"""

from __future__ import annotations

from enum import Enum

from ..errors import ChainError, RpcError


class Outcome(Enum):
    ACCEPTED = "accepted"  # in the pool (or already there): the nonce is now used
    NONCE_USED = "nonce_used"  # the nonce is taken: by one of our attempts (settle finds its receipt) or not
    UNDERPRICED = "underpriced"  # below the base fee, or an earlier attempt with higher fees is pooled
    REJECTED = "rejected"  # can never be accepted as it is (bad gas limit, too large, …)
    TRANSIENT = "transient"  # the node is unreachable, busy, or says something we do not know


_ACCEPTED = ("already known", "already imported", "known transaction", "already in the pool", "alreadyknown")
_NONCE_USED = ("nonce too low", "nonce has already been used", "oldnonce", "nonce is too low")
_UNDERPRICED = (
    "underpriced",
    "less than block base fee",
    "fee cap less than",
    "feecap too low",
    "fee too low",
    "max fee per gas less than",
    "gas price too low",
)
_REJECTED = (
    "intrinsic gas too low",
    "exceeds block gas limit",
    "gas limit reached",
    "oversized data",
    "transaction too large",
    "invalid sender",
    "invalid signature",
    "chain id",
    "not allowed",
)


_CARRIED = ("oversized data", "transaction too large", "too large", "exceeds the maximum size", "max size")


def carried(message: str) -> bool:
    """Whether a rejection is about what the transaction carries (an action can be at fault)."""
    return any(p in message.lower() for p in _CARRIED)


def classify(exc: BaseException | None) -> Outcome:
    if exc is None:
        return Outcome.ACCEPTED
    if not isinstance(exc, RpcError):
        if isinstance(exc, ChainError):
            return Outcome.TRANSIENT
        raise exc
    message = exc.rpc_message.lower()
    for phrases, outcome in (
        (_ACCEPTED, Outcome.ACCEPTED),
        (_NONCE_USED, Outcome.NONCE_USED),
        (_UNDERPRICED, Outcome.UNDERPRICED),
        (_REJECTED, Outcome.REJECTED),
    ):
        if any(p in message for p in phrases):
            return outcome
    return Outcome.TRANSIENT
