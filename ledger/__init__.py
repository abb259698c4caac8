"""The ledger: settings, contracts' toolchain and deployment, EIP-712 actions, the outbox and relayer.

The public surface is below; everything else is an implementation detail that may change.
"""

import os
from importlib.util import find_spec

# Every EIP-712 digest, address checksum and transaction hash is a keccak. eth-hash takes the first
# backend it can import, pycryptodome (~7.5 µs a hash here); the C `pysha3` backend that
# eth-hash[pysha3] installs takes ~1.5 µs. Chosen before anything hashes; ETH_HASH_BACKEND overrides.
if "ETH_HASH_BACKEND" not in os.environ and find_spec("sha3") is not None:
    os.environ["ETH_HASH_BACKEND"] = "pysha3"

from .deploy import Deployment, deploy, ensure_deployment
from .eip712 import ActionType
from .errors import LedgerError
from .intake import prepare, verify_submission
from .kinds import ACTION_TYPES, KINDS, Kind, VerifiedAction
from .settings import Settings, get_settings

__all__ = [
    "ACTION_TYPES",
    "KINDS",
    "ActionType",
    "Deployment",
    "Kind",
    "LedgerError",
    "Settings",
    "VerifiedAction",
    "deploy",
    "ensure_deployment",
    "get_settings",
    "prepare",
    "verify_submission",
]
