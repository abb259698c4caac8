"""Custodial wallets for residents without a wallet of their own; see `wallets` and `keys`."""

from .keys import KeyEncrypter, LocalMasterKey
from .wallets import create_wallet, export_wallet, get_wallet, sign_action

__all__ = ["KeyEncrypter", "LocalMasterKey", "create_wallet", "export_wallet", "get_wallet", "sign_action"]
