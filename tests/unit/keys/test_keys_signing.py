"""Signing keys: EIP-191 and EIP-712 sign / recover."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eth_keys import keys as eth_keys
from eth_utils.crypto import keccak

from keys import (
    KeysError,
    SignatureError,
    SigningKey,
    address_of_public_key,
    recover_message,
    recover_typed_data,
)

# The "Mail" example from the EIP-712 specification.
MAIL: dict[str, Any] = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person"},
            {"name": "contents", "type": "string"},
        ],
    },
    "primaryType": "Mail",
    "domain": {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
# v = 28, r, s as given in the EIP-712 spec for this example.
SPEC_SIGNATURE = (
    "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"
    "1c"
)


def cow() -> SigningKey:
    return SigningKey.from_hex(keccak(text="cow").hex())


def test_eip712_mail_example() -> None:
    key = cow()
    assert key.address == COW
    signature = key.sign_typed_data(MAIL)
    assert signature == SPEC_SIGNATURE
    assert recover_typed_data(MAIL, signature) == COW


def test_typed_data_bound_to_content() -> None:
    changed = copy.deepcopy(MAIL)
    changed["message"]["contents"] = "Hello, Eve!"
    assert recover_typed_data(changed, SPEC_SIGNATURE) != COW
    changed = copy.deepcopy(MAIL)
    changed["domain"]["chainId"] = 2
    assert recover_typed_data(changed, SPEC_SIGNATURE) != COW


def test_malformed_typed_data() -> None:
    with pytest.raises(SignatureError):
        recover_typed_data({"types": {}}, SPEC_SIGNATURE)
    with pytest.raises(SignatureError):
        cow().sign_typed_data({"primaryType": "Nope"})


def test_message_round_trip() -> None:
    key = SigningKey.generate()
    signature = key.sign_message("login challenge 42")
    assert signature.startswith("0x") and len(signature) == 132
    assert recover_message("login challenge 42", signature) == key.address
    assert recover_message("login challenge 43", signature) != key.address


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0x",
        "0x1234",
        "not hex",
        SPEC_SIGNATURE[:-2],
        SPEC_SIGNATURE + "00",
        "0x" + "00" * 65,
        SPEC_SIGNATURE[:-2] + "05",
        "0x" + "zz" * 65,
    ],
)
def test_malformed_signature(signature: str) -> None:
    with pytest.raises(SignatureError):
        recover_message("hello", signature)
    assert issubclass(SignatureError, KeysError)


def test_from_hex_and_hex() -> None:
    key = SigningKey.generate()
    again = SigningKey.from_hex(key.hex())
    assert again.address == key.address
    assert SigningKey.from_hex(key.hex()[2:]).address == key.address
    assert key.hex().startswith("0x") and len(key.hex()) == 66
    assert key.account.address == key.address


@pytest.mark.parametrize("bad", ["", "0x12", "0x" + "00" * 32, "0x" + "ff" * 32, "g" * 64])
def test_from_hex_invalid(bad: str) -> None:
    with pytest.raises(KeysError) as info:
        SigningKey.from_hex(bad)
    assert bad[2:] not in str(info.value) or not bad[2:]


def test_repr_shows_only_address() -> None:
    key = SigningKey.generate()
    assert repr(key) == f"SigningKey({key.address})"
    assert key.hex()[2:] not in repr(key)


def test_signatures_are_recovered_by_libsecp256k1_not_pure_python() -> None:
    # pyproject pins coincurve so that eth-keys picks it; without it every login, grant and
    # presentation check spends ~5 ms per signature in Python.
    from eth_keys.backends import get_backend

    assert type(get_backend()).__name__ == "CoinCurveECCBackend"


def test_address_of_a_public_key_is_the_accounts_address() -> None:
    key = SigningKey.generate()
    public = eth_keys.PrivateKey(bytes(key.account.key)).public_key.to_bytes()
    assert address_of_public_key(public[:32], public[32:]) == key.address
