"""The strict walk over untrusted CBOR: what passes is what cbor2 reads back unchanged, and
each refused shape is refused for its own reason."""

from __future__ import annotations

import cbor2
import pytest

from vault.presentations.cbor_scan import CborRefused, check


@pytest.mark.parametrize(
    "value",
    [0, -1, 2**64, -(2**64) - 5, b"\x00" * 300, "证照", [1, [2, [3]]], {"a": 1, b"b": [True, None, 1.5]}, False],
)
def test_what_the_format_uses_passes(value: object) -> None:
    data = cbor2.dumps(value)
    check(data, max_depth=4)
    assert cbor2.loads(data) == value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (cbor2.dumps({1: "x"}), "map keys"),
        (b"\xa2\x61a\x01\x78\x01a\x02", "same key twice"),  # the second "a" written with a longer head
        (cbor2.dumps([[[[[1]]]]]), "nested too deep"),
        (b"\x9f\xff", "indefinite"),
        (b"\x5f\xff", "indefinite"),
        (cbor2.dumps(cbor2.CBORTag(2, 5)), "tag"),  # a bignum tag around something not bytes
        (b"\xf7", "simple value"),
        (b"\xf8\x20", "simple value"),
        (b"\x9a\xff\xff\xff\xff", "longer than the data"),
        (b"\x62a", "longer than the data"),
        (b"\x01\x01", "extra bytes"),
        (b"\xa1\x62\xff\xfe\x01", "key cannot be read"),
        (b"", "cut short"),
    ],
)
def test_hostile_shapes_are_refused_with_their_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CborRefused, match=reason):
        check(data, max_depth=4)
