"""Custodial wallets: one key per resident who has no wallet, kept encrypted, used only on request.

The calling platform (the metaverse, the city's app) authenticates the resident and presents its
own token (`ESG_PLATFORM_TOKENS`); the API checks the token before anything here runs. A key is
decrypted only for the moment it signs, and never logged. `export` hands the key to the resident
as a standard encrypted keystore (Web3 Secret Storage, scrypt) under a password they choose; from
then on the city no longer signs for them (they hold the key: self-custody).
"""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..eip712 import ActionType
from ..errors import WalletExportedError, WalletNotFoundError
from ..models import CustodialWallet
from ..types import Address
from .keys import KeyEncrypter


def _context(address: str) -> bytes:
    return b"esg-custodial-wallet:" + address.lower().encode()


def create_wallet(*, session: Session, subject: str, keys: KeyEncrypter) -> CustodialWallet:
    """The subject's wallet, created on first use (idempotent: the same subject gets the same one)."""
    existing = session.get(CustodialWallet, subject)
    if existing is not None:
        return existing
    account: LocalAccount = Account.create()
    wallet = CustodialWallet(
        subject=subject,
        address=account.address,
        key_id=keys.key_id,
        ciphertext=keys.encrypt(bytes(account.key), context=_context(account.address)),
        created_at=time.time(),
    )
    session.add(wallet)
    try:
        session.flush()
    except IntegrityError:  # another request created it meanwhile
        session.rollback()
        stored = session.get(CustodialWallet, subject)
        assert stored is not None
        return stored
    return wallet


def get_wallet(*, session: Session, subject: str) -> CustodialWallet:
    wallet = session.get(CustodialWallet, subject)
    if wallet is None:
        raise WalletNotFoundError(f"no custodial wallet for {subject!r}")
    return wallet


def _account(wallet: CustodialWallet, keys: KeyEncrypter) -> LocalAccount:
    account: LocalAccount = Account.from_key(
        keys.decrypt(wallet.ciphertext, context=_context(wallet.address))
    )
    return account


def sign_action(
    *, session: Session, subject: str, keys: KeyEncrypter, spec: ActionType, typed_data: dict[str, Any]
) -> tuple[Address, str]:
    """Signs prepared typed data for the subject; returns (address, signature)."""
    wallet = get_wallet(session=session, subject=subject)
    if wallet.exported_at is not None:
        raise WalletExportedError(f"{subject!r} exported their key and signs for themselves now")
    digest = spec.digest(
        int(typed_data["domain"]["chainId"]), typed_data["domain"]["verifyingContract"], typed_data["message"]
    )
    signed = _account(wallet, keys).unsafe_sign_hash(Hash32(digest))
    return Address(wallet.address), signed.signature.to_0x_hex()


def export_wallet(*, session: Session, subject: str, keys: KeyEncrypter, password: str) -> dict[str, Any]:
    """The key as an encrypted keystore (scrypt) under the resident's password; ends custody."""
    wallet = get_wallet(session=session, subject=subject)
    keystore: dict[str, Any] = Account.encrypt(_account(wallet, keys).key, password)
    if wallet.exported_at is None:
        wallet.exported_at = time.time()
        session.add(wallet)
    return keystore
