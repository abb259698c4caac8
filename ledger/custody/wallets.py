"""Custodial wallets: one key per resident who has no wallet, kept encrypted, used only on request.

A wallet belongs to the platform that created it (`platform_id`): the platform authenticates the
resident, and no other platform may read, use or export the wallet (`WrongPlatformError`). The
ciphertext's associated data binds the key to its subject, platform and address, so a sealed key
copied to another row, or to another platform's row, does not open. Wallets from before platforms
(`binding` 1, address only) are re-sealed with the full binding the next time they sign.

A key is decrypted only for the moment it signs, and never logged. `export_wallet` hands the key to
the resident once, as a standard encrypted keystore (Web3 Secret Storage, scrypt) under a password
they choose, and destroys the ciphertext: the row keeps the address and `exported_at`, the city
holds no copy, and a second export is `AlreadyExportedError`.
"""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ..eip712 import ActionType
from ..errors import AlreadyExportedError, WalletExportedError, WalletNotFoundError, WrongPlatformError
from ..models import CustodialWallet
from ..types import Address
from .keys import KeyEncrypter

SUBJECT_SEPARATOR = ":"  # "<platform id>:<the platform's user id>" (ledger/platforms/provisioning.py)
_BINDING = 2


def _context(wallet: CustodialWallet) -> bytes:
    if wallet.binding == 1:  # before 0010: the address alone
        return b"esg-custodial-wallet:" + wallet.address.lower().encode()
    # NUL cannot occur in a subject (no control characters) nor in a platform id (a slug)
    parts = (wallet.platform_id or "", wallet.subject, wallet.address.lower())
    return b"esg-custodial-wallet:v2:" + b"\x00".join(p.encode() for p in parts)


def _check_namespace(subject: str, platform_id: str, known_platforms: frozenset[str]) -> None:
    """A subject "<p>:<user>" is platform p's user: no other platform may create it (squatting)."""
    prefix, sep, _ = subject.partition(SUBJECT_SEPARATOR)
    if sep and prefix in known_platforms and prefix != platform_id:
        raise WrongPlatformError(f"subject {subject!r} is in platform {prefix!r}'s namespace")


def create_wallet(
    *,
    session: Session,
    subject: str,
    platform_id: str,
    keys: KeyEncrypter,
    known_platforms: frozenset[str] = frozenset(),
) -> tuple[CustodialWallet, bool]:
    """(the subject's wallet, created now?): created on first use, the same one after; flushes only."""
    existing = session.get(CustodialWallet, subject)
    if existing is not None:
        _owned(existing, platform_id)
        return existing, False
    _check_namespace(subject, platform_id, known_platforms)
    account: LocalAccount = Account.create()
    wallet = CustodialWallet(
        subject=subject,
        address=account.address,
        key_id=keys.key_id,
        created_at=time.time(),
        platform_id=platform_id,
        binding=_BINDING,
    )
    wallet.ciphertext = keys.encrypt(bytes(account.key), context=_context(wallet))
    session.add(wallet)
    try:
        session.flush()
    except IntegrityError:  # another request created it meanwhile
        session.rollback()
        stored = session.get(CustodialWallet, subject)
        assert stored is not None
        return _owned(stored, platform_id), False
    return wallet, True


def _owned(wallet: CustodialWallet, platform_id: str) -> CustodialWallet:
    if wallet.platform_id != platform_id:
        # Says that the subject exists elsewhere, but nothing about it: no address, no platform.
        raise WrongPlatformError(f"the custodial wallet {wallet.subject!r} belongs to another platform")
    return wallet


def get_wallet(*, session: Session, subject: str, platform_id: str) -> CustodialWallet:
    """The subject's wallet if `platform_id` holds it; WalletNotFoundError / WrongPlatformError."""
    wallet = session.get(CustodialWallet, subject)
    if wallet is None:
        raise WalletNotFoundError(f"no custodial wallet for {subject!r}")
    return _owned(wallet, platform_id)


def _account(wallet: CustodialWallet, keys: KeyEncrypter) -> LocalAccount:
    if wallet.ciphertext is None:
        raise WalletExportedError(f"{wallet.subject!r} exported their key and signs for themselves now")
    account: LocalAccount = Account.from_key(keys.decrypt(wallet.ciphertext, context=_context(wallet)))
    return account


def _reseal(session: Session, wallet: CustodialWallet, account: LocalAccount, keys: KeyEncrypter) -> None:
    """Moves a pre-platform wallet to the full binding (subject + platform + address)."""
    wallet.binding = _BINDING
    wallet.key_id = keys.key_id
    wallet.ciphertext = keys.encrypt(bytes(account.key), context=_context(wallet))
    session.add(wallet)
    session.commit()


def sign_action(
    *,
    session: Session,
    subject: str,
    platform_id: str,
    keys: KeyEncrypter,
    spec: ActionType,
    typed_data: dict[str, Any],
) -> tuple[Address, str]:
    """Signs prepared typed data for the subject; returns (address, signature)."""
    wallet = get_wallet(session=session, subject=subject, platform_id=platform_id)
    if wallet.exported_at is not None:
        raise WalletExportedError(f"{subject!r} exported their key and signs for themselves now")
    digest = spec.digest(
        int(typed_data["domain"]["chainId"]), typed_data["domain"]["verifyingContract"], typed_data["message"]
    )
    account = _account(wallet, keys)
    signed = account.unsafe_sign_hash(Hash32(digest))
    if wallet.binding != _BINDING:
        _reseal(session, wallet, account, keys)
    return Address(wallet.address), signed.signature.to_0x_hex()


def export_wallet(
    *, session: Session, subject: str, platform_id: str, keys: KeyEncrypter, password: str
) -> dict[str, Any]:
    """The key as an encrypted keystore (scrypt) under the resident's password, once; ends custody and
    destroys the ciphertext. The caller checked the platform's re-authentication first. Flushes."""
    wallet = get_wallet(session=session, subject=subject, platform_id=platform_id)
    if wallet.exported_at is not None or wallet.ciphertext is None:
        raise AlreadyExportedError(f"{subject!r} was exported already; the city holds no copy of the key")
    keystore: dict[str, Any] = Account.encrypt(_account(wallet, keys).key, password)
    # Conditional: of two exports at once, only the one whose update lands hands out the key.
    done = session.execute(
        update(CustodialWallet)
        .where(col(CustodialWallet.subject) == subject, col(CustodialWallet.exported_at).is_(None))
        .values(exported_at=time.time(), ciphertext=None)
    )
    if getattr(done, "rowcount", 0) != 1:
        session.rollback()
        raise AlreadyExportedError(f"{subject!r} was exported already; the city holds no copy of the key")
    session.flush()
    session.expire(wallet)
    return keystore
