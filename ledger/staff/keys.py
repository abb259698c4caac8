"""Custodial staff keys and TOTP secrets, sealed by the custody `KeyEncrypter`.

The associated data binds each ciphertext to its member id and address (and to what it is), so a
sealed key moved to another member's row, or swapped with a TOTP secret, does not open. The master
key is ESG_CUSTODY_MASTER_KEY; in development without one, a random key kept in the data folder
(`staff-dev-master.key`), so the demo staff account works out of the box. Nowhere else.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from ..custody import KeyEncrypter
from ..custody.keys import custody_keys
from ..errors import CustodyError
from ..settings import Settings
from .errors import StaffKeysUnavailableError
from .models import StaffCredential, StaffMember


def staff_keys(settings: Settings) -> KeyEncrypter | None:
    """The encrypter for staff secrets, or None when custodial staff cannot work here: the same master
    key (in development, the same random key file) that seals custodial wallets."""
    return custody_keys(settings)


def require_keys(keys: KeyEncrypter | None) -> KeyEncrypter:
    if keys is None:
        raise StaffKeysUnavailableError(
            "custodial staff need ESG_CUSTODY_MASTER_KEY (their keys and TOTP secrets are sealed with it)"
        )
    return keys


def context(what: str, member: StaffMember) -> bytes:
    return f"esg-staff-{what}:{member.id}:{member.address.lower()}".encode()


def seal(keys: KeyEncrypter, what: str, member: StaffMember, secret: bytes) -> bytes:
    return keys.encrypt(secret, context=context(what, member))


def unseal(keys: KeyEncrypter, what: str, member: StaffMember, sealed: bytes) -> bytes:
    try:
        return keys.decrypt(sealed, context=context(what, member))
    except CustodyError:
        raise StaffKeysUnavailableError(
            f"staff member {member.id}'s sealed {what} does not open: another master key, or another row's"
        ) from None


def member_account(keys: KeyEncrypter, member: StaffMember, credential: StaffCredential) -> LocalAccount:
    account: LocalAccount = Account.from_key(unseal(keys, "key", member, credential.key_sealed))
    return account


def sign_typed_data(
    keys: KeyEncrypter, member: StaffMember, credential: StaffCredential, typed_data: dict[str, Any]
) -> str:
    """An `eth_signTypedData_v4` signature by the member's sealed key, 0x-hex; the key lives only here."""
    account = member_account(keys, member, credential)
    if account.address != member.address:  # a row that does not belong together: never sign
        raise StaffKeysUnavailableError(f"the sealed key of staff member {member.id} is not theirs")
    signed = account.sign_message(encode_typed_data(full_message=typed_data))
    return str(signed.signature.to_0x_hex())
