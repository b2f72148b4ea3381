"""AES-256-GCM (intl) and SM4-GCM (sm) with a random 96-bit nonce, mapping every failure to
DecryptionError. Both give nonce || ciphertext || 16-byte tag, so the formats differ only in
their format byte and key length."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import DecryptionError
from keys.suite import Suite

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def encrypt(key: bytes, plaintext: bytes, aad: bytes, suite: Suite = Suite.INTL) -> bytes:
    """Return nonce || ciphertext || tag."""
    # Random nonces are safe here: each key encrypts far fewer than 2**32 messages
    # (data keys encrypt exactly one body; KEKs and the master wrap key a few per row).
    nonce = os.urandom(NONCE_SIZE)
    if suite is Suite.INTL:
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    return nonce + sm4_gcm_encrypt(key, nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes, suite: Suite = Suite.INTL) -> bytes:
    """Inverse of :func:`encrypt`; any failure (short input, bad tag) is a DecryptionError."""
    if len(blob) < NONCE_SIZE + TAG_SIZE or len(key) != suite.key_size:
        raise DecryptionError()
    try:
        if suite is Suite.INTL:
            return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
        return sm4_gcm_decrypt(key, blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except (InvalidTag, ValueError):
        # `from None`: the cause adds nothing for a legitimate caller and is noise in logs.
        raise DecryptionError() from None


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """SM4-GCM (RFC 8998) ciphertext || tag. cryptography has SM4 as a block cipher with the
    GCM mode, not as an AEAD class, hence the Cipher object."""
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`sm4_gcm_encrypt`; raises InvalidTag or ValueError on any failure."""
    if len(data) < TAG_SIZE:
        raise ValueError("short")
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG_SIZE:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(data[:-TAG_SIZE]) + decryptor.finalize()
