"""Metaverse platforms: the registry (scoped, hashed tokens; sealed webhook secrets and enroller keys),
signed webhook deliveries, and the custodial residents a platform provisions and enrols with its own
enroller key. See docs/api.md "Platform journey"."""

from .deliveries import StoredAnswer
from .enroller import ensure_enroller_key, grant_command, party_for, revoke_command
from .models import LEGACY_PLATFORM_ID, PLATFORM_ID_PATTERN, USER_ID_PATTERN, Platform, WebhookDelivery
from .provisioning import (
    Enrolling,
    delivery_evidence,
    platform_enroller,
    provision,
    request_evidence,
    subject_for,
    vouch_for,
)
from .registry import (
    IssuedCredentials,
    PlatformIdentity,
    active_platform,
    add_platform,
    authenticate,
    get_platform,
    list_platforms,
    revoke_platform,
    rotate_platform,
    webhook_secret,
)
from .signatures import (
    REAUTH_SIGNATURE_HEADER,
    REAUTH_TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    sign_reauth,
    verify_reauth,
    verify_webhook,
)
from .webhooks import ActionResult, WebhookAction, WebhookEvent, authenticate_delivery, run_delivery

__all__ = [
    "LEGACY_PLATFORM_ID",
    "PLATFORM_ID_PATTERN",
    "REAUTH_SIGNATURE_HEADER",
    "REAUTH_TIMESTAMP_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "USER_ID_PATTERN",
    "ActionResult",
    "Enrolling",
    "IssuedCredentials",
    "Platform",
    "PlatformIdentity",
    "StoredAnswer",
    "WebhookAction",
    "WebhookDelivery",
    "WebhookEvent",
    "active_platform",
    "add_platform",
    "authenticate",
    "authenticate_delivery",
    "delivery_evidence",
    "ensure_enroller_key",
    "get_platform",
    "grant_command",
    "list_platforms",
    "party_for",
    "platform_enroller",
    "provision",
    "request_evidence",
    "revoke_command",
    "revoke_platform",
    "rotate_platform",
    "run_delivery",
    "sign",
    "sign_reauth",
    "subject_for",
    "verify_reauth",
    "verify_webhook",
    "vouch_for",
    "webhook_secret",
]
