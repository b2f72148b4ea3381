"""The master key: the one secret the operator keeps outside the database.

It never encrypts data directly. ``derive`` gives independent sub-keys per purpose
(HKDF-SHA256, or HKDF-SM3 for the sm suite; purpose as info), and ``wrap``/``unwrap`` protect
small secrets (KEKs, keystore entries) under a sub-key reserved for wrapping.

Wrapped blob, format 1 (intl) and 2 (sm)::

    offset  size  field
    0       1     format version (0x01 | 0x02)
    1       12    nonce (random)
    13      n+16  ciphertext || tag, aad = format byte || caller aad; format 1: AES-256-GCM
                  under HKDF-SHA256(wrap purpose, 32), format 2: SM4-GCM under
                  HKDF-SM3(wrap purpose, 16)

``unwrap`` reads both whatever suite the vault writes now, so a vault part-way through
re-encryption from one suite to the other opens everything it holds.

Accepted encodings of the key (env var or file): 32 bytes as base64 (standard or
url-safe) or hex (optional 0x); a file may also hold the 32 raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from pathlib import Path
from typing import NoReturn

from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys import _aead
from keys._fs import create_exclusive
from keys.errors import DecryptionError, MasterKeyError
from keys.suite import Suite

KEY_SIZE = 32
DEFAULT_ENV_VAR = "DATAVAULT_MASTER_KEY"
# Fixed salt: the master key is already uniformly random, the salt only separates domains.
_HKDF_SALT = b"datavault/master-key/v1"
_WRAP_PURPOSE = "datavault/master-wrap/v1"


class MasterKey:
    __slots__ = ("_secret", "_wrap_keys")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) != KEY_SIZE:
            raise MasterKeyError(f"master key must be exactly {KEY_SIZE} bytes")
        self._secret = secret
        # Derived once: every record a department reads unwraps its subject's KEK with it, and
        # HKDF on each unwrap was a few percent of a read. No more secret than ``_secret``.
        self._wrap_keys = {suite: self.derive(_WRAP_PURPOSE, suite.key_size, suite=suite) for suite in Suite}

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_SIZE))

    @staticmethod
    def decode(text: str) -> bytes | None:
        """The key's bytes from its text form (base64 or hex of 32 bytes); None if it is not one."""
        return _decode_text(text.strip())

    @classmethod
    def from_text(cls, text: str, *, source: str = DEFAULT_ENV_VAR) -> MasterKey | None:
        """The key from its text form, or None if ``text`` is empty; ``source`` names it in errors."""
        value = text.strip()
        if not value:
            return None
        secret = _decode_text(value)
        if secret is None:
            raise MasterKeyError(f"{source} is set but is not {KEY_SIZE} bytes of base64 or hex")
        return cls(secret)

    @classmethod
    def from_file(cls, path: Path) -> MasterKey:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise MasterKeyError(f"master key file {path} does not exist") from None
        except OSError as exc:
            raise MasterKeyError(f"cannot read master key file {path}: {exc.strerror}") from None
        if len(data) == KEY_SIZE:
            # 32 bytes can only be raw: base64/hex of 32 bytes is 43+ characters long.
            return cls(data)
        try:
            secret = _decode_text(data.decode("ascii").strip())
        except UnicodeDecodeError:
            secret = None
        if secret is None:
            raise MasterKeyError(f"master key file {path} does not hold {KEY_SIZE} bytes (raw, base64 or hex)")
        return cls(secret)

    @classmethod
    def load(
        cls,
        key_file: Path,
        *,
        text: str = "",
        source: str = DEFAULT_ENV_VAR,
        create: bool = False,
    ) -> MasterKey:
        """``text`` if not empty, else ``key_file``; with ``create`` a missing file is generated.

        The vault passes ``text`` as its settings read it (``DATAVAULT_MASTER_KEY``); ``source``
        names where it came from in errors. Nothing here reads the environment.
        """
        given = cls.from_text(text, source=source)
        if given is not None:
            return given
        key_file = Path(key_file)
        if not key_file.exists():
            if not create:
                raise MasterKeyError(
                    f"no master key: {source} is not set and {key_file} does not exist "
                    "(create one, or start with key creation enabled)"
                )
            key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = cls.generate()
            try:
                create_exclusive(key_file, base64.b64encode(key._secret) + b"\n", 0o600)
            except FileExistsError:
                pass  # another process created it first: use theirs, never replace it
            except OSError as exc:
                raise MasterKeyError(f"cannot create master key file {key_file}: {exc.strerror}") from None
        return cls.from_file(key_file)

    def derive(self, purpose: str, length: int = KEY_SIZE, *, suite: Suite = Suite.INTL) -> bytes:
        """An independent sub-key for ``purpose``; same key + purpose + suite gives the same
        bytes (HKDF with the suite's hash: SHA-256 or SM3)."""
        if not purpose:
            raise ValueError("purpose must be non-empty")
        if not 1 <= length <= 255 * 32:
            raise ValueError("length must be between 1 and 8160 bytes")
        hkdf = HKDF(algorithm=suite.hash(), length=length, salt=_HKDF_SALT, info=purpose.encode("utf-8"))
        return hkdf.derive(self._secret)

    def wrap(self, secret: bytes, aad: bytes, *, suite: Suite = Suite.INTL) -> bytes:
        header = bytes([suite.format_byte])
        return header + _aead.encrypt(self._wrap_keys[suite], secret, header + aad, suite)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        """Open a blob of either suite: its format byte says which."""
        suite = Suite.of_format(blob[0]) if len(blob) >= 1 else None
        if suite is None:
            raise DecryptionError()
        return _aead.decrypt(self._wrap_keys[suite], blob[1:], blob[:1] + aad, suite)

    @staticmethod
    def wrap_suite(blob: bytes) -> Suite | None:
        """The suite a wrapped blob was sealed with, read from its format byte."""
        return Suite.of_format(blob[0]) if len(blob) >= 1 else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.derive("datavault/hash"))

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would copy the key into caches, queues and crash dumps.
        raise TypeError("MasterKey cannot be pickled")

    # Immutable, so copies may share it (keeps dataclasses.asdict / deepcopy working).
    def __copy__(self) -> MasterKey:
        return self

    def __deepcopy__(self, memo: object) -> MasterKey:
        return self


def _decode_text(value: str) -> bytes | None:
    hex_value = value[2:] if value[:2].lower() == "0x" else value
    if len(hex_value) == 2 * KEY_SIZE:
        try:
            return bytes.fromhex(hex_value)
        except ValueError:
            pass
    # Accept the url-safe alphabet and missing padding; validate=True rejects stray characters.
    std = value.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(std + "=" * (-len(std) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_SIZE else None
