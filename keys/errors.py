"""Errors raised by ``keys``. Everything derives from :class:`KeysError`.

Crypto failures are deliberately uninformative: wrong key, wrong associated data, a
tampered header or body and truncated input all raise the same :class:`DecryptionError`
with the same message, so a caller (or an attacker probing an API) learns nothing about
which check failed.
"""

from __future__ import annotations


class KeysError(Exception):
    """Root of every error raised by the ``keys`` package."""


class DecryptionError(KeysError):
    """Authenticated decryption failed; the message never says why."""

    MESSAGE = "decryption failed"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class MasterKeyError(KeysError):
    """The master key is missing or invalid. The message is for the operator; it never
    contains key material."""


class KeyNotFoundError(KeysError, LookupError):
    """A key-encryption key (id, version) is unknown to the caller's lookup."""

    def __init__(self, key_id: str, version: int) -> None:
        super().__init__(f"key {key_id!r} version {version} not found")
        self.key_id = key_id
        self.version = version


class SignatureError(KeysError):
    """A signature or signed payload is malformed and cannot be recovered."""


class KeystoreError(KeysError):
    """A keystore entry cannot be created, read or parsed."""


class KeystoreEntryExists(KeystoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"keystore entry {name!r} already exists")
        self.name = name


class KeystoreEntryMissing(KeystoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"keystore entry {name!r} does not exist")
        self.name = name
