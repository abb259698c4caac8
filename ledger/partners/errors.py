"""Partner credentials' and the partner desk's exceptions.

They are `ActionError`s: each carries a stable `.code`, an HTTP `.status` and the `.field` at fault
(the `X-Partner-Key` header, the QR `request`, a key id), and leaves the API the way every refused
action does.

PartnerError(ActionError)
├── PartnerKeyRequiredError       no X-Partner-Key header (401)
├── PartnerKeyInvalidError        malformed, unknown, or the secret does not match (401)
├── PartnerKeyRevokedError        the key was revoked (401, from the moment it is revoked)
├── PartnerKeyScopeError          the key lacks the scope this needs (403)
├── WrongPartnerError             the redemption is for another partner than the key's (403)
├── PartnerNotRegisteredError     no key for an address that is not a registered, unexpired partner (422)
├── PartnerKeyNotFoundError       no such key id (404)
├── PartnerKeyConflictError       the key is already revoked (409)
└── RedemptionRefusedError        the chain would not record this redemption now (422; the decoded
                                  custom error names why: balance, nonce, expiry, partner)
"""

from __future__ import annotations

from ..errors import ActionError


class PartnerError(ActionError):
    code = "partner_error"
    status = 400


class PartnerKeyRequiredError(PartnerError):
    code = "not_authenticated"  # the one code for "no credentials" across the API
    status = 401


class PartnerKeyInvalidError(PartnerError):
    code = "partner_key_invalid"
    status = 401


class PartnerKeyRevokedError(PartnerError):
    code = "partner_key_revoked"
    status = 401


class PartnerKeyScopeError(PartnerError):
    code = "insufficient_scope"
    status = 403


class WrongPartnerError(PartnerError):
    code = "wrong_partner"
    status = 403


class PartnerNotRegisteredError(PartnerError):
    code = "partner_not_registered"
    status = 422


class PartnerKeyNotFoundError(PartnerError):
    code = "partner_key_not_found"
    status = 404


class PartnerKeyConflictError(PartnerError):
    code = "partner_key_conflict"
    status = 409


class RedemptionRefusedError(PartnerError):
    code = "redemption_refused"
    status = 422
