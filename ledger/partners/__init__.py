"""Partners (shops, sponsors): their API keys and the desk where they accept residents' redemptions.

`keys` issues, authenticates, scopes and revokes keys (hashed at rest); `desk` verifies a
redemption request (ledger/redemption_requests.py) as submit does and as the chain will, and
records which partner accepted it. Who is a registered partner is the mirror's business: callers
pass the registration in. docs/api.md walks a partner through it.
"""

from .desk import Checked, DeskChain, check_on_chain, record_acceptance, verify_request
from .errors import (
    PartnerError,
    PartnerKeyConflictError,
    PartnerKeyInvalidError,
    PartnerKeyNotFoundError,
    PartnerKeyRequiredError,
    PartnerKeyRevokedError,
    PartnerKeyScopeError,
    PartnerNotRegisteredError,
    RedemptionRefusedError,
    WrongPartnerError,
)
from .keys import (
    HEADER,
    KEY_PATTERN,
    SCOPE_ACCEPT,
    SCOPE_READ,
    SCOPES,
    IssuedKey,
    authenticate,
    get_key,
    issue_key,
    key_public,
    list_keys,
    needs_touch,
    require_scope,
    revoke_key,
    touch_key,
)
from .models import PartnerKey, PartnerRedemption

__all__ = [
    "HEADER",
    "KEY_PATTERN",
    "SCOPES",
    "SCOPE_ACCEPT",
    "SCOPE_READ",
    "Checked",
    "DeskChain",
    "IssuedKey",
    "PartnerError",
    "PartnerKey",
    "PartnerKeyConflictError",
    "PartnerKeyInvalidError",
    "PartnerKeyNotFoundError",
    "PartnerKeyRequiredError",
    "PartnerKeyRevokedError",
    "PartnerKeyScopeError",
    "PartnerNotRegisteredError",
    "PartnerRedemption",
    "RedemptionRefusedError",
    "WrongPartnerError",
    "authenticate",
    "check_on_chain",
    "get_key",
    "issue_key",
    "key_public",
    "list_keys",
    "needs_touch",
    "record_acceptance",
    "require_scope",
    "revoke_key",
    "touch_key",
    "verify_request",
]
