"""Key encryption for custodial wallets, behind `KeyEncrypter`, which a KMS can implement.

`LocalMasterKey` is envelope encryption with a master key from settings: each wallet's private key
is sealed with AES-256-GCM under a key derived from the master key (HKDF-SHA256 with a random
salt), with the wallet's address as associated data, so a ciphertext moved to another row does
not decrypt. A KMS implementation (AWS KMS, GCP KMS, Vault transit) would call the service's
encrypt/decrypt with the address as encryption context instead; the rest of custody is unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Protocol

from Crypto.Cipher import AES

from ..errors import CustodyError
from ..settings import Settings

_VERSION = b"\x01"


class KeyEncrypter(Protocol):
    key_id: str

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes: ...


def _hkdf(master: bytes, salt: bytes, info: bytes) -> bytes:
    prk = hmac.new(salt, master, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


class LocalMasterKey:
    """AES-256-GCM under HKDF(master key); `key_id` is a fingerprint, so a rotated key is told apart."""

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise CustodyError("the custody master key must be 32 bytes")
        self._master = master
        self.key_id = "local:" + hashlib.sha256(b"esg-custody-key-id" + master).hexdigest()[:16]

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        salt, nonce = os.urandom(16), os.urandom(12)
        cipher = AES.new(_hkdf(self._master, salt, b"esg-custody-v1"), AES.MODE_GCM, nonce=nonce)
        cipher.update(context)
        sealed, tag = cipher.encrypt_and_digest(plaintext)
        return _VERSION + salt + nonce + tag + sealed

    def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes:
        if ciphertext[:1] != _VERSION:
            raise CustodyError("unknown custodial key format")
        salt, nonce, tag, sealed = ciphertext[1:17], ciphertext[17:29], ciphertext[29:45], ciphertext[45:]
        cipher = AES.new(_hkdf(self._master, salt, b"esg-custody-v1"), AES.MODE_GCM, nonce=nonce)
        cipher.update(context)
        try:
            return bytes(cipher.decrypt_and_verify(sealed, tag))
        except ValueError:
            raise CustodyError("a custodial key does not decrypt under this master key") from None


# In development one random master key seals custodial wallets, platform secrets and staff keys alike.
_DEV_KEY_FILE = "staff-dev-master.key"


def custody_keys(settings: Settings) -> KeyEncrypter | None:
    """ESG_CUSTODY_MASTER_KEY's encrypter; in development without one, a random key kept in the data
    folder, so `scripts/run`'s demo platform works out of the box. None: custody is off (503)."""
    master = settings.custody_master_key
    if master is not None:
        return LocalMasterKey(bytes.fromhex(master.get_secret_value().removeprefix("0x")))
    if settings.env != "development":
        return None
    path = settings.data_dir / _DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex())
    return LocalMasterKey(bytes.fromhex(path.read_text().strip()))
