"""The ledger's exceptions.

LedgerError
├── ConfigurationError            settings that cannot work (placeholder secrets, bad URLs)
├── ToolchainError                solc shim, anvil or forge missing or failing
│   └── CompilationError          solc reported errors (kept on .errors)
├── ChainError                    the JSON-RPC node
│   ├── RpcError                  a JSON-RPC error response (code, message, data kept)
│   └── ChainMismatchError        the node is not the chain the deployment or action is for
├── DecodeError                   a log that matches a known event's topic but not its layout
├── DeploymentError               no deployment, or one whose code is gone from the chain
├── ActionError                   a resident's action is refused (carries .code and .field)
│   ├── InvalidActionError        a field is missing, malformed or out of range
│   │   └── ActionConflictError   well-formed, but the ledger's state refuses it now (HTTP 409)
│   ├── InvalidSignatureError     the signature is not the resident's
│   ├── UnsupportedActionError    an action kind this ledger does not handle
│   ├── RateLimitedError          a resident's rate limit or daily cap (HTTP 429)
│   ├── NotEnrolledError          ESG_ENROLMENT_POLICY=enrolled and the resident is not enrolled (HTTP 403)
│   └── ResidentAuthError         no, expired or revoked resident session; a refused sign-in (HTTP 401)
├── ContractRevertError           an on-chain custom error, decoded (name, args, raw data)
├── RelayerError                  the relayer refuses or cannot do something
│   └── PolicyViolationError      a transaction outside the allow-list of targets and selectors
├── CustodyError                  custodial wallets (carries .code and .status for the API)
│   ├── CustodyUnavailableError   no master key configured
│   ├── NotAuthenticatedError     the calling platform did not present a valid token
│   ├── WalletNotFoundError       no custodial wallet for this subject
│   ├── WalletExportedError       the key was exported: the resident signs for themselves now
│   ├── AlreadyExportedError      a second export of a wallet (HTTP 409)
│   ├── WrongPlatformError        the wallet belongs to another platform (HTTP 403)
│   ├── KindNotAllowedError       the platform may not submit this action kind (HTTP 403)
│   ├── ReauthRequiredError       an export without a fresh re-authentication assertion (HTTP 401)
│   ├── PlatformError             the platform registry (unknown id, bad name or kinds, weak secret)
│   ├── PlatformNotEnrollerError  a platform provisions under `enrolled` without ENROLLER_ROLE (HTTP 403)
│   └── WebhookError              a webhook delivery refused (bad signature, stale, conflict)
├── AuditQueryError               an export, metrics or report query that cannot be asked (.field)
├── PrivacyError                  an erasure that cannot be made (a malformed resident, an actor)
└── BonusError                    campaign bonus trees (carries .code and .status for the API)
    ├── InvalidAllocationError    empty, a zero amount, a duplicate or malformed address, too large
    ├── BonusTreeConflictError    a different allocation is already published for the campaign
    ├── BonusTreeNotFoundError    no tree is published for the campaign
    └── BonusRuleError            a distribution rule that does not parse, or cannot apply yet
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class ConfigurationError(LedgerError):
    pass


class ToolchainError(LedgerError):
    pass


class CompilationError(ToolchainError):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("solc reported errors:\n" + "\n".join(errors))


class ChainError(LedgerError):
    pass


class RpcError(ChainError):
    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data
        super().__init__(f"{method} failed: {message} (code {code})")


class DecodeError(LedgerError):
    """A log that matches a known event's topic but not its layout: nothing is stored from it."""

    def __init__(self, log: dict[str, object], problem: str) -> None:
        self.log = log
        super().__init__(
            f"cannot decode log {log.get('logIndex')} of block {log.get('blockNumber')} "
            f"({log.get('transactionHash')}): {problem}"
        )


class ChainMismatchError(ChainError):
    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"expected chain id {expected}, the node reports {actual}")


class DeploymentError(LedgerError):
    pass


class ActionError(LedgerError):
    """An action refused before it is accepted; `code` is stable, `field` names the offending input."""

    code = "invalid_action"
    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class InvalidActionError(ActionError):
    code = "invalid_action"


class ActionConflictError(InvalidActionError):
    """Well-formed and within every documented bound, but refused for the ledger's state now: a
    session that has not ended yet, a passed deadline, an unknown category or item, a balance too
    low, an item already supported. Same code as its parent; HTTP 409, as the request may succeed
    once the state changes."""

    status = 409


class InvalidSignatureError(ActionError):
    code = "invalid_signature"


class UnsupportedActionError(ActionError):
    code = "unsupported_action"


class RateLimitedError(ActionError):
    code = "rate_limited"
    status = 429


class NotEnrolledError(ActionError):
    """Refused before any nonce, outbox row or gas: no accountable party enrolled the resident."""

    code = "not_enrolled"
    status = 403


class ResidentAuthError(ActionError):
    """`code`: not_authenticated (no, expired or revoked session) or sign_in_refused, with `reason`
    (wrong_domain, expired, bad_nonce, …) for the logs."""

    code = "not_authenticated"
    status = 401

    def __init__(
        self, message: str, *, code: str = "not_authenticated", field: str | None = None, reason: str = ""
    ) -> None:
        self.code = code
        self.reason = reason or code
        super().__init__(message, field=field)


class ContractRevertError(LedgerError):
    def __init__(self, name: str, args: dict[str, Any], data: bytes) -> None:
        self.name = name
        self.args_ = args
        self.data = data
        rendered = ", ".join(f"{k}={v}" for k, v in args.items())
        super().__init__(f"{name}({rendered})")


class RelayerError(LedgerError):
    pass


class PolicyViolationError(RelayerError):
    def __init__(self, to: str, selector: str) -> None:
        self.to = to
        self.selector = selector
        super().__init__(f"refusing to sign a call to {to} with selector {selector}: not on the allow-list")


class CustodyError(LedgerError):
    code = "custody_error"
    status = 400


class CustodyUnavailableError(CustodyError):
    code = "custody_unavailable"
    status = 503


class NotAuthenticatedError(CustodyError):
    code = "not_authenticated"
    status = 401


class WalletNotFoundError(CustodyError):
    code = "wallet_not_found"
    status = 404


class WalletExportedError(CustodyError):
    code = "wallet_exported"
    status = 409


class AlreadyExportedError(CustodyError):
    code = "already_exported"
    status = 409


class WrongPlatformError(CustodyError):
    code = "wrong_platform"
    status = 403


class KindNotAllowedError(CustodyError):
    code = "kind_not_allowed"
    status = 403
    field: str | None = "kind"


class ReauthRequiredError(CustodyError):
    """`code` says which: reauth_required (no assertion), reauth_invalid, reauth_stale."""

    status = 401

    def __init__(self, message: str, *, code: str = "reauth_required", field: str | None = None) -> None:
        self.code = code
        self.field = field
        super().__init__(message)


class PlatformError(CustodyError):
    code = "platform_error"
    status = 400


class PlatformNotEnrollerError(CustodyError):
    """Under ESG_ENROLMENT_POLICY=enrolled a platform provisions residents only if its own enroller key
    holds ENROLLER_ROLE on EnrolmentRegistry: nothing is recorded until it is granted."""

    code = "platform_not_enroller"
    status = 403


class WebhookError(CustodyError):
    """A refused delivery; `code` tells the sender what to fix, `field` names the header or member."""

    status = 401

    def __init__(self, message: str, *, code: str, status: int = 401, field: str | None = None) -> None:
        self.code = code
        self.status = status
        self.field = field
        super().__init__(message)


class BonusError(LedgerError):
    code = "bonus_error"
    status = 400


class InvalidAllocationError(BonusError):
    code = "invalid_allocation"
    status = 422

    def __init__(self, problem: str, *, resident: str | None = None) -> None:
        self.problem = problem
        self.resident = resident
        super().__init__(f"allocation for {resident!r}: {problem}" if resident is not None else problem)


class BonusTreeConflictError(BonusError):
    code = "bonus_tree_conflict"
    status = 409

    def __init__(self, chain_id: int, campaign_id: int, published_root: str, new_root: str) -> None:
        self.chain_id = chain_id
        self.campaign_id = campaign_id
        self.published_root = published_root
        self.new_root = new_root
        super().__init__(
            f"campaign {campaign_id} on chain {chain_id} already has a published bonus tree "
            f"(root {published_root}); refusing a different allocation (root {new_root})"
        )


class BonusTreeNotFoundError(BonusError):
    code = "bonus_tree_not_found"
    status = 404

    def __init__(self, chain_id: int, campaign_id: int) -> None:
        self.chain_id = chain_id
        self.campaign_id = campaign_id
        super().__init__(f"campaign {campaign_id} on chain {chain_id} has no published bonus tree")


class BonusRuleError(BonusError):
    """A bonus rule that does not parse, or a campaign it cannot be applied to (not finalized as
    Achieved, nobody contributed, no pool)."""

    code = "bonus_rule"
    status = 422


class AuditQueryError(LedgerError):
    """An audit export, metric or report asked with a filter that does not apply or does not parse."""

    code = "invalid_audit_query"
    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class PrivacyError(LedgerError):
    """A privacy erasure that cannot be made as asked."""

    code = "privacy_error"
    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)
