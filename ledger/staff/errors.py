"""Staff identity's exceptions; each carries `.code` and `.status` for the API.

StaffError(LedgerError)
├── StaffNotAuthenticatedError   no, malformed, expired or revoked credentials (401)
├── SignInRefusedError           a sign-in attempt failed; `.reason` is logged, the client sees less (401)
├── StaffLockedError             too many consecutive failures: locked until `.until` (429)
├── StaffForbiddenError          signed in, but deactivated or without the role needed (403)
├── CsrfError                    a cookie session's unsafe request without the matching X-CSRF-Token (403)
├── StaffNotFoundError           no staff member with that id, address or login (404)
├── StaffConflictError           the address or login is already a staff member's (409)
└── StaffKeysUnavailableError    custodial staff keys need ESG_CUSTODY_MASTER_KEY (503)
"""

from __future__ import annotations

from ..errors import LedgerError


class StaffError(LedgerError):
    code = "staff_error"
    status = 400


class StaffNotAuthenticatedError(StaffError):
    code = "not_authenticated"
    status = 401


class SignInRefusedError(StaffError):
    """`reason` is for the sign-in log; the message the client gets never says which factor failed."""

    code = "sign_in_refused"
    status = 401

    def __init__(self, reason: str, message: str = "sign-in refused") -> None:
        self.reason = reason
        super().__init__(message)


class StaffLockedError(StaffError):
    code = "locked_out"
    status = 429

    def __init__(self, until: float) -> None:
        self.until = until
        super().__init__("too many failed sign-ins: this account is locked for a while; try again later")


class StaffForbiddenError(StaffError):
    code = "forbidden"
    status = 403


class CsrfError(StaffError):
    code = "csrf_failed"
    status = 403


class StaffNotFoundError(StaffError):
    code = "staff_not_found"
    status = 404


class StaffConflictError(StaffError):
    code = "staff_conflict"
    status = 409


class StaffKeysUnavailableError(StaffError):
    code = "staff_keys_unavailable"
    status = 503
