"""The vault's crypto suites, named in one place.

``intl``: AES-256-GCM, HMAC/HKDF-SHA256, secp256k1. ``sm`` (国密, for GB/T 39786 assessments):
SM4-GCM, HMAC/HKDF-SM3, and SM2 signatures beside the secp256k1 ones the chain checks.

SM4 has only 128-bit keys, so an sm data key or KEK is 16 bytes of fresh randomness rather
than 32 bytes cut down: a key's length is its cipher's, and a wrong-suite key is refused by
length before any decryption. The master key stays 32 bytes for both suites; each suite
derives its own sub-keys from it with its own hash.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import hashes


class Suite(StrEnum):
    INTL = "intl"
    SM = "sm"

    @property
    def key_size(self) -> int:
        """Bytes of a data key or KEK of this suite (AES-256: 32, SM4: 16)."""
        return 32 if self is Suite.INTL else 16

    @property
    def format_byte(self) -> int:
        """The format byte this suite's ciphertexts carry; format 1 is the original intl layout."""
        return 1 if self is Suite.INTL else 2

    def hash(self) -> hashes.HashAlgorithm:
        """The hash for this suite's HMACs and HKDF (a new object each time: they are stateful)."""
        return hashes.SHA256() if self is Suite.INTL else hashes.SM3()

    @classmethod
    def of_format(cls, fmt: int) -> Suite | None:
        """The suite a format byte names, or None for a byte no suite writes."""
        return {1: cls.INTL, 2: cls.SM}.get(fmt)

    @classmethod
    def of_key_size(cls, size: int) -> Suite | None:
        return {32: cls.INTL, 16: cls.SM}.get(size)
