"""Signing keys at rest: one JSON file per entry, the private key wrapped by the master key.

Entry file ``<directory>/<name>.json`` (mode 0600, created atomically, never overwritten)::

    {"address": "0x<checksum>", "version": 1, "ciphertext": "<base64 of MasterKey.wrap(...)>"}

The wrapped secret is the 32 raw private-key bytes with aad ``b"keystore:" + name``, so an
entry copied under another name does not decrypt. ``address`` is plaintext (so listing
needs no key) and unauthenticated; ``load`` checks it against the decrypted key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

from keys._fs import create_exclusive
from keys.errors import KeysError, KeystoreEntryExists, KeystoreEntryMissing, KeystoreError
from keys.master import MasterKey
from keys.signing import SigningKey

ENTRY_VERSION = 1
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SUFFIX = ".json"


class Keystore:
    def __init__(self, directory: Path, master: MasterKey) -> None:
        self._directory = Path(directory)
        self._master = master

    @property
    def directory(self) -> Path:
        return self._directory

    def create(self, name: str) -> str:
        """Generate a key under ``name``; returns its address."""
        return self._store(name, SigningKey.generate())

    def import_key(self, name: str, private_key_hex: str) -> str:
        try:
            key = SigningKey.from_hex(private_key_hex)
        except KeysError as exc:
            raise KeystoreError(f"cannot import {name!r}: {exc}") from None
        return self._store(name, key)

    def load(self, name: str) -> SigningKey:
        address, encoded = self._read(name)
        try:
            ciphertext = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeystoreError(f"keystore entry {name!r} is corrupt") from None
        # A wrong master key raises DecryptionError here, on purpose not a KeystoreError.
        secret = self._master.unwrap(ciphertext, _aad(name))
        key = SigningKey.from_hex(secret.hex())
        if key.address != address:
            raise KeystoreError(f"keystore entry {name!r}: address does not match its key")
        return key

    def address_of(self, name: str) -> str:
        """The entry's address, read without decrypting."""
        return self._read(name)[0]

    def names(self) -> list[str]:
        if not self._directory.is_dir():
            return []
        return sorted(
            p.name[: -len(_SUFFIX)]
            for p in self._directory.iterdir()
            if p.name.endswith(_SUFFIX) and _NAME_RE.fullmatch(p.name[: -len(_SUFFIX)]) and p.is_file()
        )

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def _store(self, name: str, key: SigningKey) -> str:
        path = self._path(name)
        if path.exists():
            raise KeystoreEntryExists(name)
        secret = bytes(key.account.key)
        entry = {
            "address": key.address,
            "version": ENTRY_VERSION,
            "ciphertext": base64.b64encode(self._master.wrap(secret, _aad(name))).decode("ascii"),
        }
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            create_exclusive(path, json.dumps(entry, indent=2).encode("utf-8") + b"\n", 0o600)
        except FileExistsError:
            raise KeystoreEntryExists(name) from None
        except OSError as exc:
            raise KeystoreError(f"cannot write keystore entry {name!r}: {exc.strerror}") from None
        return key.address

    def _read(self, name: str) -> tuple[str, str]:
        """(address, base64 ciphertext) of an entry, validated for shape only."""
        path = self._path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeystoreEntryMissing(name) from None
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore entry {name!r}: {exc.strerror}") from None
        try:
            entry = json.loads(raw)
        except ValueError:
            raise KeystoreError(f"keystore entry {name!r} is corrupt") from None
        if not isinstance(entry, dict) or entry.get("version") != ENTRY_VERSION:
            raise KeystoreError(f"keystore entry {name!r} is corrupt or of an unknown version")
        address, ciphertext = entry.get("address"), entry.get("ciphertext")
        if not isinstance(address, str) or not isinstance(ciphertext, str):
            raise KeystoreError(f"keystore entry {name!r} is corrupt")
        return address, ciphertext

    def _path(self, name: str) -> Path:
        _check_name(name)
        return self._directory / f"{name}{_SUFFIX}"

    def __repr__(self) -> str:
        return f"Keystore({str(self._directory)!r})"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise KeystoreError(f"invalid keystore entry name {name!r}: use 1-64 letters, digits, '-', '_' or '.'")


def _aad(name: str) -> bytes:
    return b"keystore:" + name.encode("ascii")
