"""The registry of residents' action kinds: one module per contract, one `Kind` per action.

Each kind declares its EIP-712 type, its payload and message models, how `prepare` fills its
message, its batch encoder and recorded event, and its largest batch. Everything else (the API's
`prepare` and submit, custody's signing, the relayer's batching and settling, the OpenAPI's list of
kinds) is derived from `KINDS` here. Adding a kind is one module and its tests.
"""

from __future__ import annotations

from ..eip712 import ActionType
from ..errors import UnsupportedActionError
from ._base import BatchKind, ChainCalls, Kind, PrepareContext, VerifiedAction
from .feedback import FEEDBACK, FEEDBACK_KIND, SUPPORT, SUPPORT_KIND
from .plogging import KIND as PLOGGING_KIND
from .plogging import PLOGGING
from .rewards import CLAIM, CLAIM_KIND, DONATION, DONATION_KIND, REDEMPTION, REDEMPTION_KIND

# Staff members' forward requests (kind "staff"): relayed, but not a resident kind, so not in KINDS
# (no /v1/actions/prepare, no custody); the relayer sends them through the StaffForwarder.
from .staff import BATCH as STAFF

__all__ = [
    "ACTION_TYPES",
    "BATCH_KINDS",
    "CLAIM",
    "DONATION",
    "FEEDBACK",
    "KINDS",
    "KINDS_BY_PRIMARY",
    "PLOGGING",
    "RECORDED_TOPICS",
    "REDEMPTION",
    "STAFF",
    "SUPPORT",
    "BatchKind",
    "ChainCalls",
    "Kind",
    "PrepareContext",
    "VerifiedAction",
    "kind",
]

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (PLOGGING_KIND, FEEDBACK_KIND, SUPPORT_KIND, REDEMPTION_KIND, DONATION_KIND, CLAIM_KIND)
}
KINDS_BY_PRIMARY: dict[str, Kind] = {k.eip712.primary_type: k for k in KINDS.values()}
ACTION_TYPES: dict[str, ActionType] = {name: k.eip712 for name, k in KINDS.items()}
# the relayer's view: how each kind is batched
BATCH_KINDS: dict[str, BatchKind] = {name: k.batch for name, k in KINDS.items()}
# topic0 of each "recorded" event → the index of the topic that carries the digest
RECORDED_TOPICS: dict[str, int] = {k.recorded_topic: k.digest_topic for k in BATCH_KINDS.values()}


def kind(name: str, *, field: str = "kind") -> Kind:
    """The kind called `name`; UnsupportedActionError (naming `field`) for any other."""
    found = KINDS.get(name) if isinstance(name, str) else None
    if found is None:
        raise UnsupportedActionError(
            f"unknown kind {name!r}; this ledger records {sorted(KINDS)}", field=field
        )
    return found
