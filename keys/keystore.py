"""Signing keys at rest: one JSON file per entry, the private key wrapped by the master key.

Entry file ``<directory>/<name>.json`` (mode 0600, created atomically, never overwritten)::

    {"address": "0x<checksum>", "version": 1, "ciphertext": "<base64 of MasterKey.wrap(...)>"}

An entry is never overwritten with another key; ``rewrap`` replaces its file (in one rename)
only to wrap the same key in the other crypto suite, when the vault is re-encrypted.

The wrapped secret is the 32 raw private-key bytes with aad ``b"keystore:" + name``, so an
entry copied under another name does not decrypt. ``address`` is plaintext (so listing
needs no key) and unauthenticated; ``load`` checks it against the decrypted key.

An SM2 key (the sm suite's signatures, ``keys.sm2``) is an entry of another type::

    {"type": "sm2", "public_key": "04<x><y> hex", "version": 1, "ciphertext": "..."}

with aad ``b"keystore:sm2:" + name``: a type changed in the file does not decrypt, and
``load`` (secp256k1) and ``load_sm2`` each refuse the other's entries, so the two kinds of key
are never mixed up. An entry without ``type`` is secp256k1, as every entry was before.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

from keys._fs import create_exclusive, replace_atomic
from keys.errors import KeysError, KeystoreEntryExists, KeystoreEntryMissing, KeystoreError
from keys.master import MasterKey
from keys.signing import SigningKey
from keys.sm2 import Sm2Key, Sm2PublicKey
from keys.suite import Suite

ENTRY_VERSION = 1
SM2 = "sm2"
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SUFFIX = ".json"


class Keystore:
    def __init__(self, directory: Path, master: MasterKey, suite: Suite = Suite.INTL) -> None:
        self._directory = Path(directory)
        self._master = master
        # The suite new entries are wrapped in (the master key's wrap format 1 or 2); both read.
        self._suite = suite

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def suite(self) -> Suite:
        """The suite new entries are wrapped in; a re-encryption of the vault changes it."""
        return self._suite

    @suite.setter
    def suite(self, suite: Suite) -> None:
        self._suite = suite

    def rewrap(self, name: str) -> bool:
        """Wrap the entry's key again in this keystore's suite (same key, same file, replaced in
        one rename); False if it already is. Checked to open first, so a corrupt entry is never
        rewritten."""
        entry = self._entry(name)
        aad = _sm2_aad(name) if entry.get("type") == SM2 else _aad(name)
        encoded = self._read_sm2(name)[1] if entry.get("type") == SM2 else self._read(name)[1]
        blob = _ciphertext(name, encoded)
        if MasterKey.wrap_suite(blob) is self._suite:
            return False
        secret = self._master.unwrap(blob, aad)
        entry["ciphertext"] = base64.b64encode(self._master.wrap(secret, aad, suite=self._suite)).decode("ascii")
        try:
            replace_atomic(self._path(name), json.dumps(entry, indent=2).encode("utf-8") + b"\n", 0o600)
        except OSError as exc:
            raise KeystoreError(f"cannot rewrite keystore entry {name!r}: {exc.strerror}") from None
        return True

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
        # A wrong master key raises DecryptionError here, on purpose not a KeystoreError.
        secret = self._master.unwrap(_ciphertext(name, encoded), _aad(name))
        key = SigningKey.from_hex(secret.hex())
        if key.address != address:
            raise KeystoreError(f"keystore entry {name!r}: address does not match its key")
        return key

    def address_of(self, name: str) -> str:
        """The entry's address, read without decrypting."""
        return self._read(name)[0]

    def create_sm2(self, name: str) -> Sm2PublicKey:
        """Generate an SM2 key under ``name``; returns its public key."""
        key = Sm2Key.generate()
        entry = {
            "type": SM2,
            "public_key": key.public_key.hex,
            "version": ENTRY_VERSION,
            "ciphertext": base64.b64encode(self._master.wrap(key.to_bytes(), _sm2_aad(name), suite=self._suite)).decode(
                "ascii"
            ),
        }
        self._write(name, entry)
        return key.public_key

    def load_sm2(self, name: str) -> Sm2Key:
        public, encoded = self._read_sm2(name)
        key = Sm2Key.from_bytes(self._master.unwrap(_ciphertext(name, encoded), _sm2_aad(name)))
        if key.public_key.hex != public:
            raise KeystoreError(f"keystore entry {name!r}: public key does not match its key")
        return key

    def sm2_public_key(self, name: str) -> Sm2PublicKey:
        """The SM2 entry's public key, read without decrypting (as stored: unauthenticated)."""
        try:
            return Sm2PublicKey.from_hex(self._read_sm2(name)[0])
        except KeysError:
            raise KeystoreError(f"keystore entry {name!r} is corrupt") from None

    def is_sm2(self, name: str) -> bool:
        """True if the entry is an SM2 key (``load_sm2``), False if a secp256k1 one (``load``)."""
        return self._entry(name).get("type") == SM2

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
            "ciphertext": base64.b64encode(self._master.wrap(secret, _aad(name), suite=self._suite)).decode("ascii"),
        }
        self._write(name, entry)
        return key.address

    def _write(self, name: str, entry: dict[str, object]) -> None:
        path = self._path(name)
        if path.exists():
            raise KeystoreEntryExists(name)
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            create_exclusive(path, json.dumps(entry, indent=2).encode("utf-8") + b"\n", 0o600)
        except FileExistsError:
            raise KeystoreEntryExists(name) from None
        except OSError as exc:
            raise KeystoreError(f"cannot write keystore entry {name!r}: {exc.strerror}") from None

    def _read(self, name: str) -> tuple[str, str]:
        """(address, base64 ciphertext) of a secp256k1 entry, validated for shape only."""
        entry = self._entry(name)
        if "type" in entry:
            raise KeystoreError(f"keystore entry {name!r} is not a secp256k1 key")
        address, ciphertext = entry.get("address"), entry.get("ciphertext")
        if not isinstance(address, str) or not isinstance(ciphertext, str):
            raise KeystoreError(f"keystore entry {name!r} is corrupt")
        return address, ciphertext

    def _read_sm2(self, name: str) -> tuple[str, str]:
        """(public key hex, base64 ciphertext) of an SM2 entry, validated for shape only."""
        entry = self._entry(name)
        if entry.get("type") != SM2:
            raise KeystoreError(f"keystore entry {name!r} is not an SM2 key")
        public, ciphertext = entry.get("public_key"), entry.get("ciphertext")
        if not isinstance(public, str) or not isinstance(ciphertext, str):
            raise KeystoreError(f"keystore entry {name!r} is corrupt")
        return public, ciphertext

    def _entry(self, name: str) -> dict[str, object]:
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
        return entry

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


def _sm2_aad(name: str) -> bytes:
    return b"keystore:sm2:" + name.encode("ascii")


def _ciphertext(name: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeystoreError(f"keystore entry {name!r} is corrupt") from None
