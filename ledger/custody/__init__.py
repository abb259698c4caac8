"""Custodial wallets for residents without a wallet of their own; see `wallets`, `keys`, `acting`."""

from .acting import ActingContext, SignedAction, check_kind, sign_for
from .keys import KeyEncrypter, LocalMasterKey, custody_keys
from .wallets import SUBJECT_SEPARATOR, create_wallet, export_wallet, get_wallet, sign_action

__all__ = [
    "SUBJECT_SEPARATOR",
    "ActingContext",
    "KeyEncrypter",
    "LocalMasterKey",
    "SignedAction",
    "check_kind",
    "create_wallet",
    "custody_keys",
    "export_wallet",
    "get_wallet",
    "sign_action",
    "sign_for",
]
