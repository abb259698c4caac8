"""Why a verification failed.

LedgerError
└── VerifyError                 a partner's check could not be done or did not pass
    ├── RecordNotFoundError     no record of that digest on this chain (failed attempts kept on .failures)
    └── BundleError             a proof bundle is refused; `.reason` is a stable code:
                                malformed, header-hash, not-in-block, log-mismatch, record-mismatch,
                                chain-id, wrong-contract, not-canonical
"""

from __future__ import annotations

from typing import Any

from ..errors import LedgerError


class VerifyError(LedgerError):
    pass


class RecordNotFoundError(VerifyError):
    def __init__(self, digest: str, failures: list[dict[str, Any]] | None = None) -> None:
        self.digest = digest
        self.failures = failures or []
        more = f" ({len(self.failures)} failed attempts)" if self.failures else ""
        super().__init__(f"no record of action {digest} on this chain{more}")


class BundleError(VerifyError):
    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}")
