"""Envelope encryption: a fresh data key per record, wrapped by a versioned KEK.

A record is stored as a :class:`Sealed` pair. Rotation (:func:`rewrap`) re-encrypts only
the small ``wrapped_key``; the ``body`` is never touched. KEKs themselves are stored
wrapped by the master key (:func:`wrap_kek`), bound to their key id and version.

All integers are big-endian; nonces are random 96-bit. The format byte of each part names
its crypto suite (``keys.suite``): 1 is intl (AES-256-GCM), exactly the original layout; 2 is
sm (SM4-GCM), the same layout with a 16-byte key. Both are always read, so a vault can be
re-encrypted from one suite to the other while it runs.

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

``wrapped_key``, format 2: as format 1 with byte 4 = 0x02 and the data key encrypted with
SM4-GCM under a 16-byte KEK. In either format the data key is 32 bytes (an intl body) or 16
(an sm body): a KEK of one suite may hold a data key of the other part-way through a
re-encryption (:func:`rewrap` across suites), and the body's format must match its length.

``body``, format 1::

    offset  size  field
    0       1     format version (0x01)
    1       12    nonce
    13      n+16  plaintext encrypted under the data key || tag; aad = format byte || caller aad

``body``, format 2: the same with format byte 0x02 and SM4-GCM under a 16-byte data key.

Wrapped KEK (stored in the database): ``MasterKey.wrap(kek.secret, aad, suite=kek.suite)``
(master wrap format 1 or 2) with aad = b"datavault/kek" || 0x00 || L (2) || key id || key version (4).
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
from keys.suite import Suite

MAGIC = b"DVWK"
FORMAT_VERSION = 1  # intl; Suite.SM.format_byte (2) for sm
KEY_SIZE = _aead.KEY_SIZE
_MAX_VERSION = 0xFFFF_FFFF
_OVERHEAD = _aead.NONCE_SIZE + _aead.TAG_SIZE

Lookup = Callable[[KeyId, int], "Kek"]


@dataclass(frozen=True)
class Kek:
    """A key-encryption key; ``secret`` is kept out of repr so it cannot leak into logs."""

    key_id: KeyId
    version: int
    secret: bytes = field(repr=False)
    suite: Suite = Suite.INTL
    # The suite of the data keys (and so the bodies) sealed under this KEK; None: its own. A
    # vault part-way through re-encryption seals new bodies in the target suite at once, under
    # a subject's KEK of the old suite, until the pass reaches that subject.
    data_suite: Suite | None = None

    def __post_init__(self) -> None:
        _key_id_bytes(self.key_id)
        if not 0 <= self.version <= _MAX_VERSION:
            raise ValueError(f"key version must be in 0..{_MAX_VERSION}")
        if len(self.secret) != self.suite.key_size:
            raise ValueError(f"a {self.suite} KEK secret must be {self.suite.key_size} bytes")


@dataclass(frozen=True)
class Sealed:
    wrapped_key: bytes
    body: bytes


def generate_kek(key_id: KeyId, version: int, suite: Suite = Suite.INTL) -> Kek:
    return Kek(key_id, version, os.urandom(suite.key_size), suite)


def wrap_kek(master: MasterKey, kek: Kek) -> bytes:
    return master.wrap(kek.secret, _kek_aad(kek.key_id, kek.version), suite=kek.suite)


def unwrap_kek(master: MasterKey, key_id: KeyId, version: int, blob: bytes) -> Kek:
    secret = master.unwrap(blob, _kek_aad(key_id, version))
    # The KEK's suite is its wrap's: a secret of the other suite's length is not one we wrote.
    suite = master.wrap_suite(blob)
    if suite is None or len(secret) != suite.key_size:
        raise DecryptionError()
    return Kek(key_id, version, secret, suite)


def seal(plaintext: bytes, aad: bytes, kek: Kek) -> Sealed:
    """Seal under a fresh data key of the KEK's data suite (its own unless it names another)."""
    suite = kek.data_suite or kek.suite
    data_key = os.urandom(suite.key_size)
    body_header = bytes([suite.format_byte])
    body = body_header + _aead.encrypt(data_key, plaintext, body_header + aad, suite)
    return Sealed(_wrap_data_key(data_key, aad, kek), body)


def open_sealed(sealed: Sealed, aad: bytes, lookup: Lookup) -> bytes:
    """Decrypt ``sealed`` of either suite; ``lookup`` supplies the KEK the header names (its
    KeyNotFoundError propagates: an unknown key is an operational problem, not tampering)."""
    data_key = _unwrap_data_key(sealed.wrapped_key, aad, lookup)
    body = sealed.body
    suite = body_suite(body)
    if suite is None or len(data_key) != suite.key_size:
        raise DecryptionError()
    return _aead.decrypt(data_key, body[1:], body[:1] + aad, suite)


def rewrap(wrapped_key: bytes, aad: bytes, lookup: Lookup, new_kek: Kek) -> bytes:
    """Re-encrypt the data key under ``new_kek``; the matching body stays valid as is (also
    when ``new_kek`` is of the other suite: the data key keeps its own)."""
    return _wrap_data_key(_unwrap_data_key(wrapped_key, aad, lookup), aad, new_kek)


def reseal(sealed: Sealed, aad: bytes, lookup: Lookup, new_kek: Kek) -> Sealed:
    """Re-encrypt a record wholly into ``new_kek``'s suite: a fresh data key of that suite and
    a new body. The step a background re-encryption from one suite to the other repeats per
    row (:func:`rewrap` alone would leave the body in its old cipher)."""
    return seal(open_sealed(sealed, aad, lookup), aad, new_kek)


def key_header(wrapped_key: bytes) -> tuple[int, KeyId, int]:
    """(format version, key id, key version) of a wrapped key, without decrypting it."""
    fmt, key_id, version, _ = _parse(wrapped_key)
    return fmt, key_id, version


def body_suite(body: bytes) -> Suite | None:
    """The suite a sealed body is in (from its format byte), or None if it names none."""
    return Suite.of_format(body[0]) if len(body) >= 1 else None


def sealed_suites(sealed: Sealed) -> tuple[Suite, Suite]:
    """(KEK's suite, body's suite) of a sealed record, read from headers only: what a
    re-encryption pass checks to skip rows already done."""
    fmt = key_header(sealed.wrapped_key)[0]
    body = body_suite(sealed.body)
    kek_suite = Suite.of_format(fmt)
    if body is None or kek_suite is None:
        raise DecryptionError()
    return kek_suite, body


def _wrap_data_key(data_key: bytes, aad: bytes, kek: Kek) -> bytes:
    key_id = _key_id_bytes(kek.key_id)
    fmt = bytes([kek.suite.format_byte])
    header = MAGIC + fmt + struct.pack(">H", len(key_id)) + key_id + struct.pack(">I", kek.version)
    return header + _aead.encrypt(kek.secret, data_key, header + aad, kek.suite)


def _unwrap_data_key(wrapped_key: bytes, aad: bytes, lookup: Lookup) -> bytes:
    fmt, key_id, version, header_len = _parse(wrapped_key)
    kek = lookup(key_id, version)
    if kek.suite.format_byte != fmt:
        raise DecryptionError()
    header = wrapped_key[:header_len]
    return _aead.decrypt(kek.secret, wrapped_key[header_len:], header + aad, kek.suite)


def _parse(wrapped_key: bytes) -> tuple[int, KeyId, int, int]:
    """Strictly parse the header; returns (format, key id, version, header length)."""
    wrapped_key = bytes(wrapped_key)
    if len(wrapped_key) < 7 or wrapped_key[:4] != MAGIC or Suite.of_format(wrapped_key[4]) is None:
        raise DecryptionError()
    fmt = wrapped_key[4]
    (id_len,) = struct.unpack_from(">H", wrapped_key, 5)
    header_len = 7 + id_len + 4
    # Exact length (a data key of either suite): a truncated or padded blob is rejected before
    # any key lookup.
    if id_len == 0 or len(wrapped_key) - header_len - _OVERHEAD not in (s.key_size for s in Suite):
        raise DecryptionError()
    try:
        key_id = wrapped_key[7 : 7 + id_len].decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError() from None
    (version,) = struct.unpack_from(">I", wrapped_key, 7 + id_len)
    return fmt, KeyId(key_id), version, header_len


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
