"""Master key: sources, creation, derivation, wrapping."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from keys import DecryptionError, MasterKey, MasterKeyError

VAR = "DATAVAULT_MASTER_KEY"
RAW = bytes(range(32))


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)


def test_from_text_empty_is_none() -> None:
    assert MasterKey.from_text("") is None and MasterKey.from_text("  \n") is None


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(RAW).decode(),
        base64.urlsafe_b64encode(RAW).decode().rstrip("="),
        RAW.hex(),
        "0x" + RAW.hex().upper(),
        "  " + RAW.hex() + "\n",
    ],
)
def test_from_text_encodings(text: str) -> None:
    assert MasterKey.from_text(text) == MasterKey(RAW)


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        RAW.hex()[:-2],
        base64.b64encode(RAW[:31]).decode(),
        "zz" * 32,
        base64.b64encode(RAW).decode() + "!",
    ],
)
def test_from_text_invalid(text: str) -> None:
    with pytest.raises(MasterKeyError) as info:
        MasterKey.from_text(text)
    assert VAR in str(info.value)
    assert text.strip() not in str(info.value)


def test_from_text_names_its_source() -> None:
    with pytest.raises(MasterKeyError, match="OTHER_KEY"):
        MasterKey.from_text("not a key", source="OTHER_KEY")


def test_from_file(tmp_path: Path) -> None:
    (tmp_path / "b64").write_text(base64.b64encode(RAW).decode() + "\n")
    (tmp_path / "hex").write_text(RAW.hex())
    (tmp_path / "raw").write_bytes(RAW)
    for name in ("b64", "hex", "raw"):
        assert MasterKey.from_file(tmp_path / name) == MasterKey(RAW)


def test_from_file_invalid_or_missing(tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("hello")
    with pytest.raises(MasterKeyError, match="does not hold"):
        MasterKey.from_file(tmp_path / "bad")
    with pytest.raises(MasterKeyError, match="does not exist"):
        MasterKey.from_file(tmp_path / "missing")


def test_load_text_wins_over_file_and_keys_read_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(os.urandom(32))
    assert MasterKey.load(path, text=RAW.hex()) == MasterKey(RAW)
    monkeypatch.setenv(VAR, RAW.hex())  # the vault's settings read it; keys/ does not
    assert MasterKey.load(path) != MasterKey(RAW)


def test_load_missing_without_create(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError) as info:
        MasterKey.load(tmp_path / "master.key")
    assert VAR in str(info.value) and "master.key" in str(info.value)


def test_load_create_makes_0600_file_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "master.key"
    first = MasterKey.load(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.from_file(path) == first
    assert MasterKey.load(path, create=True) == first  # never regenerated
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp left


def test_load_create_respects_existing_even_if_racing(tmp_path: Path) -> None:
    from keys._fs import create_exclusive

    path = tmp_path / "k"
    create_exclusive(path, RAW, 0o600)
    with pytest.raises(FileExistsError):
        create_exclusive(path, os.urandom(32), 0o600)
    assert MasterKey.load(path, create=True) == MasterKey(RAW)


def test_constructor_rejects_wrong_length() -> None:
    with pytest.raises(MasterKeyError):
        MasterKey(b"x" * 31)


def test_repr_hides_key() -> None:
    key = MasterKey(RAW)
    for text in (repr(key), str(key), f"{key}"):
        assert RAW.hex() not in text and base64.b64encode(RAW).decode() not in text


def test_derive_distinct_and_stable() -> None:
    key = MasterKey(RAW)
    a, b = key.derive("subject-pseudonym"), key.derive("api-token")
    assert len(a) == len(b) == 32
    assert a != b
    assert a != RAW
    assert key.derive("subject-pseudonym") == a
    assert MasterKey(os.urandom(32)).derive("subject-pseudonym") != a
    assert len(key.derive("x", 64)) == 64
    with pytest.raises(ValueError):
        key.derive("")


def test_wrap_round_trip_and_failures() -> None:
    key = MasterKey(RAW)
    blob = key.wrap(b"secret", b"aad")
    assert blob[0] == 1 and b"secret" not in blob
    assert key.unwrap(blob, b"aad") == b"secret"
    assert key.wrap(b"secret", b"aad") != blob  # random nonce
    failures: list[Callable[[], object]] = [
        lambda: key.unwrap(blob, b"other"),
        lambda: MasterKey(os.urandom(32)).unwrap(blob, b"aad"),
        lambda: key.unwrap(blob[:-1], b"aad"),
        lambda: key.unwrap(b"", b"aad"),
        lambda: key.unwrap(b"\x02" + blob[1:], b"aad"),
        lambda: key.unwrap(blob[:5] + bytes([blob[5] ^ 1]) + blob[6:], b"aad"),
    ]
    for bad in failures:
        with pytest.raises(DecryptionError, match=r"^decryption failed$"):
            bad()


def test_not_picklable() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(MasterKey(RAW))
