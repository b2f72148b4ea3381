from __future__ import annotations

import random

import pytest

from vault.errors import VaultValueError
from vault.presentations import base45
from vault.presentations.base45 import Base45Error

# RFC 9285 section 4.3 and 4.4.
RFC_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC_EXAMPLES)
def test_rfc_examples(raw: bytes, text: str) -> None:
    assert base45.encode(raw) == text
    assert base45.decode(text) == raw


def test_empty() -> None:
    assert base45.encode(b"") == ""
    assert base45.decode("") == b""


def test_edge_values() -> None:
    assert base45.encode(b"\xff\xff") == "FGW"  # 65535 = 30 + 45*36 + 2025*32
    assert base45.decode("FGW") == b"\xff\xff"
    assert base45.encode(b"\xff") == "U5"
    assert base45.encode(b"\x00\x00") == "000"


def test_value_above_65535_is_refused() -> None:
    with pytest.raises(Base45Error, match="above 65535"):
        base45.decode("GGW")


def test_last_pair_above_255_is_refused() -> None:
    with pytest.raises(Base45Error, match="above 255"):
        base45.decode("BB8::")  # ':' is 44: 44 + 45*44 = 2024


@pytest.mark.parametrize("text", ["bb8", "BB8\n\n", "AB#", "ÄBC", "BB8 \x00"])
def test_characters_outside_the_alphabet_are_refused(text: str) -> None:
    with pytest.raises(Base45Error, match="is not Base45"):
        base45.decode(text)


@pytest.mark.parametrize("text", ["A", "BB8A", "%69 VD92EX0AB"])
def test_lengths_leaving_one_character_are_refused(text: str) -> None:
    with pytest.raises(Base45Error, match="one is left over"):
        base45.decode(text)


def test_non_text_is_refused_and_errors_are_vault_value_errors() -> None:
    with pytest.raises(VaultValueError, match="must be text"):
        base45.decode(b"BB8")  # type: ignore[arg-type]


def test_round_trip_random_bytes() -> None:
    rng = random.Random(9285)
    for n in list(range(20)) + [rng.randrange(20, 3000) for _ in range(50)]:
        raw = rng.randbytes(n)
        text = base45.encode(raw)
        assert len(text) == n // 2 * 3 + n % 2 * 2
        assert set(text) <= set(base45.ALPHABET)
        assert base45.decode(text) == raw
