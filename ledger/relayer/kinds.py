"""The relayer's view of the action kinds: how each is batched (derived from `ledger.kinds`).

`KINDS` are the residents' kinds, each sent through its contract's batch function. `STAFF` is the
staff members' forward requests, sent through `StaffForwarder.executeBatch` (`relayer/staff.py`).
"""

from __future__ import annotations

from ..kinds import BATCH_KINDS as KINDS
from ..kinds import RECORDED_TOPICS, STAFF, BatchKind
from ..kinds.staff import ForwardBatchKind

PLOGGING = KINDS["plogging"]

__all__ = ["KINDS", "PLOGGING", "RECORDED_TOPICS", "STAFF", "BatchKind", "ForwardBatchKind"]
