"""The ledger: settings, contracts' toolchain and deployment, EIP-712 actions, the outbox and relayer.

The public surface is below; everything else is an implementation detail that may change.
"""

from .actions import VerifiedAction, verify_submission
from .deploy import Deployment, deploy, ensure_deployment
from .eip712 import ACTION_TYPES, ActionType
from .errors import LedgerError
from .settings import Settings, get_settings

__all__ = [
    "ACTION_TYPES",
    "ActionType",
    "Deployment",
    "LedgerError",
    "Settings",
    "VerifiedAction",
    "deploy",
    "ensure_deployment",
    "get_settings",
    "verify_submission",
]
