"""Keystore: entries on disk, encrypted under the master key."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from keys import (
    DecryptionError,
    Keystore,
    KeystoreEntryExists,
    KeystoreEntryMissing,
    KeystoreError,
    MasterKey,
    SigningKey,
)


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def store(tmp_path: Path, master: MasterKey) -> Keystore:
    return Keystore(tmp_path / "keystore", master)


def test_create_load_round_trip(store: Keystore) -> None:
    address = store.create("platform")
    key = store.load("platform")
    assert key.address == address == store.address_of("platform")
    assert store.exists("platform") and not store.exists("other")
    assert store.names() == ["platform"]


def test_entry_file_format_and_mode(store: Keystore) -> None:
    store.create("dept-1")
    key = store.load("dept-1")
    path = store.directory / "dept-1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    entry = json.loads(text)
    assert set(entry) == {"address", "version", "ciphertext"}
    assert entry["version"] == 1 and entry["address"] == key.address
    private = key.hex()[2:]
    assert private.lower() not in text.lower()
    assert [p.name for p in store.directory.iterdir()] == ["dept-1.json"]  # no temp left


def test_import(store: Keystore) -> None:
    key = SigningKey.generate()
    assert store.import_key("imported", key.hex()) == key.address
    assert store.load("imported").hex() == key.hex()
    with pytest.raises(KeystoreError):
        store.import_key("bad", "0x1234")
    assert not store.exists("bad")


def test_exists_and_missing(store: Keystore) -> None:
    store.create("a")
    with pytest.raises(KeystoreEntryExists) as exists:
        store.create("a")
    assert exists.value.name == "a"
    with pytest.raises(KeystoreEntryExists):
        store.import_key("a", SigningKey.generate().hex())
    with pytest.raises(KeystoreEntryMissing) as missing:
        store.load("b")
    assert missing.value.name == "b"
    with pytest.raises(KeystoreEntryMissing):
        store.address_of("b")


def test_wrong_master(store: Keystore, tmp_path: Path) -> None:
    store.create("a")
    other = Keystore(store.directory, MasterKey.generate())
    assert other.address_of("a") == store.address_of("a")
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        other.load("a")


def test_entry_renamed_does_not_load(store: Keystore) -> None:
    store.create("a")
    (store.directory / "a.json").rename(store.directory / "b.json")
    with pytest.raises(DecryptionError):
        store.load("b")


def test_tampered_address_detected(store: Keystore) -> None:
    store.create("a")
    path = store.directory / "a.json"
    entry = json.loads(path.read_text())
    entry["address"] = SigningKey.generate().address
    path.write_text(json.dumps(entry))
    with pytest.raises(KeystoreError, match="does not match"):
        store.load("a")


def test_corrupt_entry(store: Keystore) -> None:
    store.directory.mkdir()
    (store.directory / "x.json").write_text("{not json")
    (store.directory / "y.json").write_text(json.dumps({"address": "0x", "version": 9}))
    for name in ("x", "y"):
        with pytest.raises(KeystoreError, match="corrupt"):
            store.load(name)


@pytest.mark.parametrize("name", ["", "a" * 65, "a/b", "../x", "a b", "ünïcode", "a\n", "x:y", "a\\b"])
def test_invalid_names(store: Keystore, name: str) -> None:
    with pytest.raises(KeystoreError, match="invalid keystore entry name"):
        store.create(name)
    with pytest.raises(KeystoreError, match="invalid keystore entry name"):
        store.load(name)


def test_valid_names_and_listing(store: Keystore) -> None:
    names = ["a" * 64, "A.b-c_d", "0"]
    for name in names:
        store.create(name)
    (store.directory / "notes.txt").write_text("ignored")
    assert store.names() == sorted(names)


def test_names_of_missing_directory(store: Keystore) -> None:
    assert store.names() == []
