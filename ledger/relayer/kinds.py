"""The relayer's view of the action kinds: how each is batched (derived from `ledger.kinds`)."""

from __future__ import annotations

from ..kinds import BATCH_KINDS as KINDS
from ..kinds import RECORDED_TOPICS, BatchKind

PLOGGING = KINDS["plogging"]

__all__ = ["KINDS", "PLOGGING", "RECORDED_TOPICS", "BatchKind"]
