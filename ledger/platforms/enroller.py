"""Each platform's own enroller key: it signs `EnrolmentRegistry.enrol` when the platform vouches for
a resident it provisions, so the chain's `ResidentEnrolled` names the platform's own address as the
enroller, and its party is `platform:<id>`.

The key is generated with the platform (`add_platform`; `esg-ledger platform enroller` gives one to a
platform added before revision 0015), sealed by the custody `KeyEncrypter` with the platform id as
associated data, as the webhook secret is (a sealed key copied to another platform's row does not
open), and decrypted only for the moment it signs. It needs no gas (its requests are relayed) and
enrols only once a staff admin granted its address ENROLLER_ROLE (`grant_command`).
"""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlmodel import Session

from ..custody import KeyEncrypter
from ..errors import PlatformError
from .models import Platform

__all__ = [
    "PARTY_PREFIX",
    "enroller_account",
    "ensure_enroller_key",
    "grant_command",
    "party_for",
    "revoke_command",
    "seal_enroller_key",
]

PARTY_PREFIX = "platform:"
MAX_PARTY = 32  # a party code is bytes32 text (ledger.enrolment.PARTY_PATTERN)


def _context(platform_id: str) -> bytes:
    return b"esg-platform-enroller-key:" + platform_id.encode()


def party_for(platform_id: str) -> str:
    """The party code a platform enrols under: `platform:<id>`, recorded on chain as bytes32 text."""
    return PARTY_PREFIX + platform_id


def grant_command(address: str) -> str:
    """What a staff admin runs so the platform may enrol (docs/operations.md, "Platforms")."""
    return f"esg-ledger staff grant enroller {address}"


def revoke_command(address: str) -> str:
    return f"esg-ledger staff revoke enroller {address}"


def seal_enroller_key(platform: Platform, keys: KeyEncrypter) -> str:
    """Gives `platform` a new enroller key, sealed into its row; returns the key's address."""
    account: LocalAccount = Account.create()
    platform.enroller_ciphertext = keys.encrypt(bytes(account.key), context=_context(platform.id))
    platform.enroller_address = account.address
    return account.address


def ensure_enroller_key(*, session: Session, keys: KeyEncrypter, platform_id: str) -> tuple[Platform, bool]:
    """(the platform, given a key now?): a platform added before 0015 gets its key here. Flushes."""
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise PlatformError(f"no platform {platform_id!r}")
    if platform.enroller_ciphertext is not None:
        return platform, False
    seal_enroller_key(platform, keys)
    session.add(platform)
    session.flush()
    return platform, True


def enroller_account(platform: Platform, keys: KeyEncrypter) -> LocalAccount | None:
    """The platform's enroller key, unsealed for the moment it signs; None if it has none."""
    if platform.enroller_ciphertext is None:
        return None
    account: LocalAccount = Account.from_key(
        keys.decrypt(platform.enroller_ciphertext, context=_context(platform.id))
    )
    return account
