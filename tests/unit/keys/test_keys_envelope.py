"""Envelope encryption: round trips, tampering, rotation, key lookup."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keys import (
    DecryptionError,
    Kek,
    KeyId,
    KeyNotFoundError,
    MasterKey,
    Sealed,
    generate_kek,
    key_header,
    open_sealed,
    rewrap,
    seal,
    unwrap_kek,
    wrap_kek,
)
from keys.envelope import MAGIC
from tests.support.keks import AAD, KID, PLAIN, lookup_of


def any_id_lookup(kek: Kek) -> Callable[[KeyId, int], Kek]:
    """Returns ``kek`` whatever the header asks for, so header tampering reaches the crypto."""
    return lambda key_id, version: kek


def assert_fails(fn: Callable[..., object], *args: object) -> None:
    with pytest.raises(DecryptionError) as info:
        fn(*args)
    assert str(info.value) == "decryption failed"
    assert info.value.args == ("decryption failed",)


def flip(data: bytes, i: int) -> bytes:
    b = bytearray(data)
    b[i] ^= 0x01
    return bytes(b)


@pytest.fixture
def kek() -> Kek:
    return generate_kek(KID, 1)


def test_round_trip(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    assert open_sealed(sealed, AAD, lookup_of(kek)) == PLAIN
    assert PLAIN not in sealed.body


def test_empty_plaintext_and_aad(kek: Kek) -> None:
    assert open_sealed(seal(b"", b"", kek), b"", lookup_of(kek)) == b""


def test_fresh_data_key_and_nonce_each_call(kek: Kek) -> None:
    a, b = seal(PLAIN, AAD, kek), seal(PLAIN, AAD, kek)
    assert a.body != b.body
    assert a.wrapped_key != b.wrapped_key


def test_header_names_key(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, generate_kek(KeyId("subject:bob"), 7))
    assert key_header(sealed.wrapped_key) == (1, "subject:bob", 7)
    assert sealed.wrapped_key.startswith(MAGIC + b"\x01")
    assert sealed.body[0] == 1


@pytest.mark.parametrize("blob", [b"", b"DVWK", b"XXXX\x01\x00\x01a", MAGIC + b"\x02" + b"\x00" * 80])
def test_key_header_malformed(blob: bytes) -> None:
    assert_fails(lambda: key_header(blob))


def test_kek_repr_hides_secret(kek: Kek) -> None:
    assert kek.secret.hex() not in repr(kek)
    assert "secret" not in repr(kek)


def test_every_wrapped_key_byte_is_protected(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    lookup = any_id_lookup(kek)
    # Magic, format, id length, key id, key version, nonce, wrapped key, tag: every byte.
    for i in range(len(sealed.wrapped_key)):
        bad = Sealed(flip(sealed.wrapped_key, i), sealed.body)
        assert_fails(open_sealed, bad, AAD, lookup)
        assert_fails(rewrap, bad.wrapped_key, AAD, lookup, generate_kek(KID, 2))


def test_every_body_byte_is_protected(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    for i in range(len(sealed.body)):
        bad = Sealed(sealed.wrapped_key, flip(sealed.body, i))
        assert_fails(open_sealed, bad, AAD, lookup_of(kek))


def test_truncated_and_extended(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    lookup = lookup_of(kek)
    for n in range(len(sealed.wrapped_key)):
        assert_fails(open_sealed, Sealed(sealed.wrapped_key[:n], sealed.body), AAD, lookup)
    for n in range(len(sealed.body)):
        assert_fails(open_sealed, Sealed(sealed.wrapped_key, sealed.body[:n]), AAD, lookup)
    assert_fails(lambda: open_sealed(Sealed(sealed.wrapped_key + b"\x00", sealed.body), AAD, lookup))
    assert_fails(lambda: open_sealed(Sealed(sealed.wrapped_key, sealed.body + b"\x00"), AAD, lookup))


def test_wrong_aad(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    for aad in (b"", b"record|alice|r1|2", AAD + b"x", AAD[:-1]):
        assert_fails(open_sealed, sealed, aad, lookup_of(kek))


def test_wrong_kek_same_id_and_version(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    impostor = generate_kek(KID, 1)
    assert_fails(lambda: open_sealed(sealed, AAD, lookup_of(impostor)))


def test_body_swapped_between_records(kek: Kek) -> None:
    a, b = seal(b"a", AAD, kek), seal(b"b", AAD, kek)
    assert_fails(lambda: open_sealed(Sealed(a.wrapped_key, b.body), AAD, lookup_of(kek)))


def test_tampered_key_id_with_strict_lookup_is_not_found(kek: Kek) -> None:
    # With a real lookup, a changed key id names a key that does not exist; that surfaces
    # as KeyNotFoundError (the lookup's own error propagates), never as a successful open.
    sealed = seal(PLAIN, AAD, kek)
    bad = bytearray(sealed.wrapped_key)
    bad[7] ^= 0x01  # first byte of the key id
    with pytest.raises(KeyNotFoundError):
        open_sealed(Sealed(bytes(bad), sealed.body), AAD, lookup_of(kek))


def test_key_not_found_carries_id_and_version(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    with pytest.raises(KeyNotFoundError) as info:
        open_sealed(sealed, AAD, lookup_of(generate_kek(KID, 2)))
    assert info.value.key_id == KID
    assert info.value.version == 1
    assert isinstance(info.value, LookupError)


def test_rotation_rewraps_without_touching_body(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    body_before = bytes(sealed.body)
    v2 = generate_kek(KID, 2)
    new_wrapped = rewrap(sealed.wrapped_key, AAD, lookup_of(kek), v2)
    assert key_header(new_wrapped) == (1, KID, 2)
    rotated = Sealed(new_wrapped, sealed.body)
    assert rotated.body == body_before
    assert open_sealed(rotated, AAD, lookup_of(v2)) == PLAIN
    with pytest.raises(KeyNotFoundError):
        open_sealed(rotated, AAD, lookup_of(kek))
    # Rewrap keeps the aad binding.
    assert_fails(lambda: open_sealed(rotated, b"other", lookup_of(v2)))


def test_rewrap_wrong_aad_fails(kek: Kek) -> None:
    sealed = seal(PLAIN, AAD, kek)
    assert_fails(lambda: rewrap(sealed.wrapped_key, b"other", lookup_of(kek), generate_kek(KID, 2)))


def test_kek_wrap_round_trip(kek: Kek) -> None:
    master = MasterKey.generate()
    blob = wrap_kek(master, kek)
    assert kek.secret not in blob
    assert unwrap_kek(master, KID, 1, blob) == kek


def test_wrapped_kek_bound_to_id_version_and_master(kek: Kek) -> None:
    master = MasterKey.generate()
    blob = wrap_kek(master, kek)
    assert_fails(lambda: unwrap_kek(master, KID, 2, blob))
    assert_fails(lambda: unwrap_kek(master, KeyId("subject:bob"), 1, blob))
    assert_fails(lambda: unwrap_kek(MasterKey.generate(), KID, 1, blob))
    for i in range(len(blob)):
        assert_fails(unwrap_kek, master, KID, 1, flip(blob, i))
    assert_fails(lambda: unwrap_kek(master, KID, 1, blob[:-1]))
    assert_fails(lambda: unwrap_kek(master, KID, 1, b""))


def test_kek_validation() -> None:
    with pytest.raises(ValueError):
        Kek(KID, 1, b"short")
    with pytest.raises(ValueError):
        generate_kek(KeyId(""), 1)
    with pytest.raises(ValueError):
        generate_kek(KID, -1)
