"""AES-256-GCM with a random 96-bit nonce, mapping every failure to DecryptionError."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import DecryptionError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Return nonce || ciphertext || tag."""
    # Random nonces are safe here: each key encrypts far fewer than 2**32 messages
    # (data keys encrypt exactly one body; KEKs and the master wrap key a few per row).
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`encrypt`; any failure (short input, bad tag) is a DecryptionError."""
    if len(blob) < NONCE_SIZE + TAG_SIZE or len(key) != KEY_SIZE:
        raise DecryptionError()
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except (InvalidTag, ValueError):
        # `from None`: the cause adds nothing for a legitimate caller and is noise in logs.
        raise DecryptionError() from None
