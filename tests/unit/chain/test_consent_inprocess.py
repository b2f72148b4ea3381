"""The consent conformance suite on the in-process chain, plus the EIP-712 specification's own
example, signed and recovered through the same code path the vault uses."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from chain.engines import Engine
from keys import SigningKey, recover_typed_data
from tests.consent_conformance import *


@pytest.fixture
def engine(inprocess_engine: Engine) -> Engine:
    return inprocess_engine


# EIP-712's "Ether Mail" example and the figures the specification publishes for it.
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


def test_eip712_specification_example() -> None:
    signable = encode_typed_data(full_message=MAIL)
    assert signable.header.hex() == "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    assert signable.body.hex() == "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
    digest = keccak(b"\x19\x01" + signable.header + signable.body)
    assert digest.hex() == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    cow = SigningKey.from_hex("0x" + keccak(text="cow").hex())
    assert cow.address == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
    signature = cow.sign_typed_data(MAIL)
    assert signature == (
        "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
        "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"
        "1c"
    )
    assert recover_typed_data(MAIL, signature) == cow.address


def test_one_topic_logs_are_revocations() -> None:
    # ConsentClient's log filter (chain.logs) tells the anonymous GrantRevoked from the other
    # events by its single topic; that holds only while every other event has an indexed one.
    from chain.artifacts import load_artifact

    events = {e["name"]: e for e in load_artifact("ConsentRegistry").abi if e["type"] == "event"}
    revoked = events.pop("GrantRevoked")
    assert revoked["anonymous"] is True and [i["indexed"] for i in revoked["inputs"]] == [True]
    assert len(events) == 4
    for name, e in events.items():
        assert e["anonymous"] is False and any(i["indexed"] for i in e["inputs"]), name
