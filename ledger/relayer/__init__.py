"""The relayer: batches residents' signed actions into transactions and pays the gas.

Modules: `core` (the tick loop), `inflight` (settling, re-pricing, reorgs), `batching`,
`base` (keys, node, sending), `kinds` (per-kind batch encoding), `preflight` (simulation),
`triage` (a batch's fate: sent, its offending entries failed alone, or waiting), `causes` (what
fails a batch whatever it holds: pauses, roles, the node), `isolation` (quarantined and
smart-account residents go alone; bisection after an on-chain revert), `signer` (sign and store
before broadcast), `broadcast` (what a node's answer means), `settle` (receipts, reorgs),
`nonces` (the SQL nonce allocator), `fees` (EIP-1559, bumps), `policy` (allow-list of targets),
`state` (the action state machine), `staff` and `staff_triage` (staff members' forward requests,
a lane per member in nonce order, through `StaffForwarder.executeBatch`).
"""

from .base import TickReport
from .core import Relayer
from .kinds import KINDS, BatchKind

__all__ = ["KINDS", "BatchKind", "Relayer", "TickReport"]
