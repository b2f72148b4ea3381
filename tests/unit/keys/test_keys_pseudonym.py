"""Pseudonymous subject ids."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from keys import pseudonym

KEY = b"k" * 32
ID = "11010519491231002X"


def test_value_and_size() -> None:
    expected = hmac.new(KEY, f"resident:{ID}".encode(), hashlib.sha256).digest()
    assert pseudonym(KEY, "resident", ID) == expected
    assert len(expected) == 32


def test_stable() -> None:
    assert pseudonym(KEY, "resident", ID) == pseudonym(KEY, "resident", ID)


@pytest.mark.parametrize(
    "variant",
    [
        ID.lower(),
        f"  {ID}  ",
        "110105 19491231 002x",
        "110105\u300019491231002X",
        "１１０１０５１９４９１２３１００２Ｘ",
        f"\t{ID}\n",
    ],
)
def test_normalization(variant: str) -> None:
    assert pseudonym(KEY, "resident", variant) == pseudonym(KEY, "resident", ID)


def test_depends_on_key_kind_and_identifier() -> None:
    base = pseudonym(KEY, "resident", ID)
    assert pseudonym(b"j" * 32, "resident", ID) != base
    assert pseudonym(KEY, "enterprise", ID) != base
    assert pseudonym(KEY, "resident", ID[:-1] + "1") != base
    assert ID.encode() not in base


def test_rejects_bad_input() -> None:
    for args in (
        (b"short", "resident", ID),
        (KEY, "", ID),
        (KEY, "a:b", ID),
        (KEY, "resident", "  "),
    ):
        with pytest.raises(ValueError):
            pseudonym(*args)
