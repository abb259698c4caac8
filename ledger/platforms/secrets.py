"""A platform's API token and webhook secret: generated with 32 random bytes, tokens kept as hashes.

A token is looked up by its SHA-256 (a 256-bit random token needs no slow hash: there is nothing to
guess), and the stored hash is compared again in constant time. Values a platform brings itself
(`platform add --token/--secret`) are measured: production refuses fewer than 32 bytes of entropy.
"""

from __future__ import annotations

import hashlib
import secrets

from ..entropy import MIN_SECRET_BITS, estimated_bits
from ..errors import PlatformError

TOKEN_PREFIX = "esgp_"  # makes a leaked token recognisable to secret scanners
SECRET_PREFIX = "whsec_"  # the prefix Stripe and Standard Webhooks give webhook secrets
_RANDOM_BYTES = 32


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def entropy_bits(value: str) -> int:
    """`ledger.entropy`'s estimate of the random part (after the known prefix)."""
    return estimated_bits(value.removeprefix(TOKEN_PREFIX).removeprefix(SECRET_PREFIX))


def check_strength(value: str, *, what: str, production: bool) -> None:
    """Refuses, in production, a token or secret with less than 32 bytes of entropy."""
    if production and entropy_bits(value) < MIN_SECRET_BITS:
        raise PlatformError(
            f"{what} has about {entropy_bits(value):d} bits of entropy; ESG_ENV=production needs at "
            f"least {MIN_SECRET_BITS} (32 random bytes). Let `esg-ledger platform add` generate it"
        )
