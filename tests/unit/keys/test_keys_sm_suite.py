"""The sm suite's formats beside intl's: round trips, tampering, both read, migration steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gmssl import sm2 as gmssl_sm2

from keys import (
    DecryptionError,
    Kek,
    Keystore,
    KeystoreError,
    MasterKey,
    Sealed,
    Suite,
    body_suite,
    generate_kek,
    key_header,
    open_sealed,
    reseal,
    rewrap,
    seal,
    sealed_suites,
    unwrap_kek,
    wrap_kek,
)
from tests.support.keks import AAD, KID, PLAIN, lookup_of


def test_sm_kek_is_16_bytes_and_intl_32() -> None:
    assert len(generate_kek(KID, 1, Suite.SM).secret) == 16
    assert len(generate_kek(KID, 1).secret) == 32
    with pytest.raises(ValueError):
        Kek(KID, 1, b"x" * 32, Suite.SM)


def test_sm_round_trip_and_format_bytes() -> None:
    kek = generate_kek(KID, 3, Suite.SM)
    sealed = seal(PLAIN, AAD, kek)
    assert sealed.body[0] == 2 and sealed.wrapped_key[4] == 2
    assert key_header(sealed.wrapped_key) == (2, KID, 3)
    # DVWK header (4+1+2+len(id)+4) + nonce 12 + 16-byte data key + tag 16.
    assert len(sealed.wrapped_key) == 11 + len(KID) + 12 + 16 + 16
    assert len(sealed.body) == 1 + 12 + len(PLAIN) + 16
    assert sealed_suites(sealed) == (Suite.SM, Suite.SM)
    assert open_sealed(sealed, AAD, lookup_of(kek)) == PLAIN


def test_intl_format_1_layout_unchanged() -> None:
    kek = generate_kek(KID, 1)
    sealed = seal(PLAIN, AAD, kek)
    assert sealed.body[0] == 1 and sealed.wrapped_key[4] == 1
    assert len(sealed.wrapped_key) == 11 + len(KID) + 12 + 32 + 16
    # The body is exactly 0x01 || nonce || AES-256-GCM(data key, plain, 0x01 || aad), as before.
    header_len = 11 + len(KID)
    wk = sealed.wrapped_key
    data_key = AESGCM(kek.secret).decrypt(
        wk[header_len : header_len + 12], wk[header_len + 12 :], wk[:header_len] + AAD
    )
    body = sealed.body
    assert AESGCM(data_key).decrypt(body[1:13], body[13:], b"\x01" + AAD) == PLAIN


@pytest.mark.parametrize("part", ["wrapped_key", "body"])
@pytest.mark.parametrize("where", [0, 4, 30, -1])
def test_sm_tampering_fails(part: str, where: int) -> None:
    kek = generate_kek(KID, 1, Suite.SM)
    sealed = seal(PLAIN, AAD, kek)
    blob = bytearray(getattr(sealed, part))
    blob[where] ^= 0x01
    changed = Sealed(bytes(blob), sealed.body) if part == "wrapped_key" else Sealed(sealed.wrapped_key, bytes(blob))
    with pytest.raises(DecryptionError):
        open_sealed(changed, AAD, lookup_of(kek))


def test_sm_wrong_aad_fails() -> None:
    kek = generate_kek(KID, 1, Suite.SM)
    with pytest.raises(DecryptionError):
        open_sealed(seal(PLAIN, AAD, kek), AAD + b"x", lookup_of(kek))


def test_format_byte_swapped_to_the_other_suite_fails() -> None:
    intl, sm = generate_kek(KID, 1), generate_kek(KID, 2, Suite.SM)
    sealed = seal(PLAIN, AAD, sm)
    body = b"\x01" + sealed.body[1:]
    with pytest.raises(DecryptionError):
        open_sealed(Sealed(sealed.wrapped_key, body), AAD, lookup_of(intl, sm))
    # A wrapped key claiming the other suite than the KEK it names is refused before decryption.
    wk = bytearray(sealed.wrapped_key)
    wk[4] = 1
    with pytest.raises(DecryptionError):
        open_sealed(Sealed(bytes(wk), sealed.body), AAD, lookup_of(intl, sm))


def test_rewrap_across_suites_keeps_the_body() -> None:
    intl, sm = generate_kek(KID, 1), generate_kek(KID, 2, Suite.SM)
    sealed = seal(PLAIN, AAD, intl)
    moved = Sealed(rewrap(sealed.wrapped_key, AAD, lookup_of(intl), sm), sealed.body)
    assert sealed_suites(moved) == (Suite.SM, Suite.INTL)
    assert open_sealed(moved, AAD, lookup_of(sm)) == PLAIN
    back = Sealed(rewrap(moved.wrapped_key, AAD, lookup_of(sm), intl), sealed.body)
    assert open_sealed(back, AAD, lookup_of(intl)) == PLAIN


def test_reseal_moves_a_record_wholly_to_the_other_suite() -> None:
    intl, sm = generate_kek(KID, 1), generate_kek(KID, 2, Suite.SM)
    sealed = seal(PLAIN, AAD, intl)
    moved = reseal(sealed, AAD, lookup_of(intl), sm)
    assert sealed_suites(moved) == (Suite.SM, Suite.SM) and body_suite(moved.body) is Suite.SM
    assert open_sealed(moved, AAD, lookup_of(sm)) == PLAIN
    assert open_sealed(reseal(moved, AAD, lookup_of(sm), intl), AAD, lookup_of(intl)) == PLAIN


def test_master_wrap_per_suite_and_both_read() -> None:
    master = MasterKey.generate()
    sm_blob = master.wrap(b"secret", b"aad", suite=Suite.SM)
    intl_blob = master.wrap(b"secret", b"aad")
    assert sm_blob[0] == 2 and intl_blob[0] == 1
    assert master.unwrap(sm_blob, b"aad") == master.unwrap(intl_blob, b"aad") == b"secret"
    with pytest.raises(DecryptionError):
        master.unwrap(b"\x01" + sm_blob[1:], b"aad")
    with pytest.raises(DecryptionError):
        master.unwrap(sm_blob, b"other")
    assert master.derive("p", suite=Suite.SM) != master.derive("p")
    assert len(master.derive("p", 16, suite=Suite.SM)) == 16


def test_sm_kek_wrap_round_trip() -> None:
    master = MasterKey.generate()
    kek = generate_kek(KID, 4, Suite.SM)
    blob = wrap_kek(master, kek)
    assert blob[0] == 2
    assert unwrap_kek(master, KID, 4, blob) == kek
    with pytest.raises(DecryptionError):
        unwrap_kek(master, KID, 5, blob)


@pytest.fixture
def store(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "ks", MasterKey.generate(), Suite.SM)


def test_keystore_sm2_entry_round_trip(store: Keystore) -> None:
    public = store.create_sm2("log-sm2")
    key = store.load_sm2("log-sm2")
    assert key.public_key == public == store.sm2_public_key("log-sm2")
    signature = key.sign(b"head")
    assert public.verify(b"head", signature)
    checker = gmssl_sm2.CryptSM2(private_key="", public_key=public.hex[2:])
    assert checker.verify_with_sm3(signature.hex(), b"head")
    entry = json.loads((store.directory / "log-sm2.json").read_text())
    assert entry["type"] == "sm2" and entry["public_key"] == public.hex


def test_keystore_never_mixes_sm2_and_secp256k1(store: Keystore) -> None:
    store.create_sm2("sm")
    store.create("eth")
    with pytest.raises(KeystoreError):
        store.load("sm")
    with pytest.raises(KeystoreError):
        store.address_of("sm")
    with pytest.raises(KeystoreError):
        store.load_sm2("eth")
    with pytest.raises(KeystoreError):
        store.sm2_public_key("eth")


def test_keystore_sm2_entry_with_its_type_removed_does_not_load(store: Keystore) -> None:
    store.create_sm2("sm")
    path = store.directory / "sm.json"
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({"address": "0x" + "00" * 20, "version": 1, "ciphertext": entry["ciphertext"]}))
    with pytest.raises((KeystoreError, DecryptionError)):
        store.load("sm")


def test_keystore_sm2_public_key_swapped_is_detected(store: Keystore) -> None:
    store.create_sm2("a")
    other = store.create_sm2("b")
    path = store.directory / "a.json"
    entry = json.loads(path.read_text())
    entry["public_key"] = other.hex
    path.write_text(json.dumps(entry))
    with pytest.raises(KeystoreError):
        store.load_sm2("a")
