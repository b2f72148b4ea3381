"""Envelope encryption: a fresh data key per record, wrapped by a versioned KEK.

A record is stored as a :class:`Sealed` pair. Rotation (:func:`rewrap`) re-encrypts only
the small ``wrapped_key``; the ``body`` is never touched. KEKs themselves are stored
wrapped by the master key (:func:`wrap_kek`), bound to their key id and version.

All integers are big-endian. AES-256-GCM throughout; nonces are random 96-bit.

``wrapped_key``, format 1 (self-describing: names the KEK that opens it)::

    offset    size  field
    0         4     magic b"DVWK"
    4         1     format version (0x01)
    5         2     L = length of key id (UTF-8 bytes, 1..65535)
    7         L     key id
    7+L       4     key version (unsigned)
    11+L      12    nonce
    23+L      48    data key (32) encrypted under the KEK || tag (16)
                    aad = bytes 0..11+L (the header above) || caller aad

The header is self-delimiting, so header || aad is unambiguous; binding it means a
changed key id or version, or a wrapped key moved to another row, fails to open.

``body``, format 1::

    offset  size  field
    0       1     format version (0x01)
    1       12    nonce
    13      n+16  plaintext encrypted under the data key || tag; aad = format byte || caller aad

Wrapped KEK (stored in the database): ``MasterKey.wrap(kek.secret, aad)`` with
aad = b"datavault/kek" || 0x00 || L (2) || key id || key version (4).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from keys import _aead
from keys.errors import DecryptionError
from keys.ids import KeyId
from keys.master import MasterKey

MAGIC = b"DVWK"
FORMAT_VERSION = 1
KEY_SIZE = _aead.KEY_SIZE
_MAX_VERSION = 0xFFFF_FFFF
_WRAPPED_DATA_KEY_SIZE = _aead.NONCE_SIZE + KEY_SIZE + _aead.TAG_SIZE

Lookup = Callable[[KeyId, int], "Kek"]


@dataclass(frozen=True)
class Kek:
    """A key-encryption key; ``secret`` is kept out of repr so it cannot leak into logs."""

    key_id: KeyId
    version: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _key_id_bytes(self.key_id)
        if not 0 <= self.version <= _MAX_VERSION:
            raise ValueError(f"key version must be in 0..{_MAX_VERSION}")
        if len(self.secret) != KEY_SIZE:
            raise ValueError(f"KEK secret must be {KEY_SIZE} bytes")


@dataclass(frozen=True)
class Sealed:
    wrapped_key: bytes
    body: bytes


def generate_kek(key_id: KeyId, version: int) -> Kek:
    return Kek(key_id, version, os.urandom(KEY_SIZE))


def wrap_kek(master: MasterKey, kek: Kek) -> bytes:
    return master.wrap(kek.secret, _kek_aad(kek.key_id, kek.version))


def unwrap_kek(master: MasterKey, key_id: KeyId, version: int, blob: bytes) -> Kek:
    secret = master.unwrap(blob, _kek_aad(key_id, version))
    if len(secret) != KEY_SIZE:
        raise DecryptionError()
    return Kek(key_id, version, secret)


def seal(plaintext: bytes, aad: bytes, kek: Kek) -> Sealed:
    data_key = os.urandom(KEY_SIZE)
    body_header = bytes([FORMAT_VERSION])
    body = body_header + _aead.encrypt(data_key, plaintext, body_header + aad)
    return Sealed(_wrap_data_key(data_key, aad, kek), body)


def open_sealed(sealed: Sealed, aad: bytes, lookup: Lookup) -> bytes:
    """Decrypt ``sealed``; ``lookup`` supplies the KEK the header names (its
    KeyNotFoundError propagates: an unknown key is an operational problem, not tampering)."""
    data_key = _unwrap_data_key(sealed.wrapped_key, aad, lookup)
    body = sealed.body
    if len(body) < 1 or body[0] != FORMAT_VERSION:
        raise DecryptionError()
    return _aead.decrypt(data_key, body[1:], body[:1] + aad)


def rewrap(wrapped_key: bytes, aad: bytes, lookup: Lookup, new_kek: Kek) -> bytes:
    """Re-encrypt the data key under ``new_kek``; the matching body stays valid as is."""
    return _wrap_data_key(_unwrap_data_key(wrapped_key, aad, lookup), aad, new_kek)


def key_header(wrapped_key: bytes) -> tuple[int, KeyId, int]:
    """(format version, key id, key version) of a wrapped key, without decrypting it."""
    fmt, key_id, version, _ = _parse(wrapped_key)
    return fmt, key_id, version


def _wrap_data_key(data_key: bytes, aad: bytes, kek: Kek) -> bytes:
    key_id = _key_id_bytes(kek.key_id)
    header = MAGIC + bytes([FORMAT_VERSION]) + struct.pack(">H", len(key_id)) + key_id + struct.pack(">I", kek.version)
    return header + _aead.encrypt(kek.secret, data_key, header + aad)


def _unwrap_data_key(wrapped_key: bytes, aad: bytes, lookup: Lookup) -> bytes:
    _, key_id, version, header_len = _parse(wrapped_key)
    kek = lookup(key_id, version)
    header = wrapped_key[:header_len]
    data_key = _aead.decrypt(kek.secret, wrapped_key[header_len:], header + aad)
    if len(data_key) != KEY_SIZE:
        raise DecryptionError()
    return data_key


def _parse(wrapped_key: bytes) -> tuple[int, KeyId, int, int]:
    """Strictly parse the header; returns (format, key id, version, header length)."""
    wrapped_key = bytes(wrapped_key)
    if len(wrapped_key) < 7 or wrapped_key[:4] != MAGIC or wrapped_key[4] != FORMAT_VERSION:
        raise DecryptionError()
    (id_len,) = struct.unpack_from(">H", wrapped_key, 5)
    header_len = 7 + id_len + 4
    # Exact length: a truncated or padded blob is rejected before any key lookup.
    if id_len == 0 or len(wrapped_key) != header_len + _WRAPPED_DATA_KEY_SIZE:
        raise DecryptionError()
    try:
        key_id = wrapped_key[7 : 7 + id_len].decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError() from None
    (version,) = struct.unpack_from(">I", wrapped_key, 7 + id_len)
    return FORMAT_VERSION, KeyId(key_id), version, header_len


def _key_id_bytes(key_id: str) -> bytes:
    encoded = key_id.encode("utf-8")
    if not 1 <= len(encoded) <= 0xFFFF:
        raise ValueError("key id must be 1..65535 bytes of UTF-8")
    return encoded


def _kek_aad(key_id: KeyId, version: int) -> bytes:
    key_id_bytes = _key_id_bytes(key_id)
    if not 0 <= version <= _MAX_VERSION:
        raise ValueError(f"key version must be in 0..{_MAX_VERSION}")
    return b"datavault/kek\x00" + struct.pack(">H", len(key_id_bytes)) + key_id_bytes + struct.pack(">I", version)
