"""HMAC-SHA256 signatures from a platform: webhook deliveries and re-authentication assertions.

The Stripe convention, in two headers: `Webhook-Timestamp: <unix seconds>` and
`Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; the key is the secret
string as UTF-8 (`whsec_…` included). Several `v1=` values (comma or space separated) are accepted,
so a sender may sign with two secrets. A re-authentication assertion (required to export a key) is
the same scheme over `"reauth.<subject>.<timestamp>"` in `Reauth-Timestamp` / `Reauth-Signature`.

The signature is checked before the timestamp (as Stripe does), so `webhook_timestamp_stale` is
only ever said to a sender who holds the secret: it means a clock off or a replay, not a forgery.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

from ..errors import ReauthRequiredError, WebhookError

TIMESTAMP_HEADER = "Webhook-Timestamp"
SIGNATURE_HEADER = "Webhook-Signature"
REAUTH_TIMESTAMP_HEADER = "Reauth-Timestamp"
REAUTH_SIGNATURE_HEADER = "Reauth-Signature"
SCHEME = "v1"

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v1=([0-9a-f]{64})$")


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` value for a body: what a platform computes (docs/api.md)."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def reauth_message(subject: str, timestamp: int) -> bytes:
    return f"reauth.{subject}.{timestamp}".encode()


def sign_reauth(secret: bytes, subject: str, timestamp: int) -> str:
    mac = hmac.new(secret, reauth_message(subject, timestamp), hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def _check(
    *,
    secret: bytes,
    message: Callable[[int], bytes],
    timestamp: str | None,
    signature: str | None,
    now: float,
    tolerance: float,
    fail: Callable[[str, str, str], Exception],
    headers: tuple[str, str],
) -> int:
    ts_header, sig_header = headers
    if not timestamp:
        raise fail(f"the {ts_header} header is required", "signature_missing", ts_header)
    if not signature:
        raise fail(f"the {sig_header} header is required", "signature_missing", sig_header)
    if not _TIMESTAMP.match(timestamp.strip()):
        raise fail(f"{ts_header} must be Unix seconds", "timestamp_invalid", ts_header)
    ts = int(timestamp.strip())
    offered = [m.group(1) for m in (_SIGNATURE.match(p) for p in re.split(r"[,\s]+", signature.strip())) if m]
    if not offered:
        raise fail(f"{sig_header} must be v1=<64 hex digits>", "signature_malformed", sig_header)
    expected = hmac.new(secret, message(ts), hashlib.sha256).hexdigest()
    # every offered value is compared (constant time each), so timing says nothing about which
    if not any([hmac.compare_digest(expected, o) for o in offered]):
        raise fail(
            f"{sig_header} does not match: wrong secret or altered content", "signature_mismatch", sig_header
        )
    if abs(now - ts) > tolerance:
        raise fail(
            f"{ts_header} {ts} is more than {tolerance:.0f}s from the server's clock ({int(now)}): "
            "a replay, or a clock to fix",
            "timestamp_stale",
            ts_header,
        )
    return ts


def verify_webhook(
    *, secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float, tolerance: float
) -> int:
    """The delivery's timestamp, once its signature checks out over the raw body; else WebhookError."""
    return _check(
        secret=secret,
        message=lambda ts: str(ts).encode() + b"." + body,
        timestamp=timestamp,
        signature=signature,
        now=now,
        tolerance=tolerance,
        fail=lambda msg, code, field: WebhookError(msg, code="webhook_" + code, field=field),
        headers=(TIMESTAMP_HEADER, SIGNATURE_HEADER),
    )


def verify_reauth(
    *, secret: bytes, subject: str, timestamp: str | None, signature: str | None, now: float, tolerance: float
) -> int:
    """Checks the platform's fresh re-authentication of `subject`; ReauthRequiredError otherwise."""
    return _check(
        secret=secret,
        message=lambda ts: reauth_message(subject, ts),
        timestamp=timestamp,
        signature=signature,
        now=now,
        tolerance=tolerance,
        fail=lambda msg, code, field: ReauthRequiredError(
            msg, code="reauth_required" if code == "signature_missing" else "reauth_" + code, field=field
        ),
        headers=(REAUTH_TIMESTAMP_HEADER, REAUTH_SIGNATURE_HEADER),
    )
