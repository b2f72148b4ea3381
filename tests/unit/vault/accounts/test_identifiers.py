from __future__ import annotations

import pytest

from vault.accounts.identifiers import (
    resident_id_check,
    uscc_check,
    validate,
    validate_resident_id,
    validate_uscc,
)
from vault.errors import VaultValueError


def test_published_examples_validate() -> None:
    # GB 11643's worked example and a published unified social credit code.
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    assert validate_resident_id(" 110105 19491231002x ") == "11010519491231002X"
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("1101051949123100", "18 characters"),
        ("ABCDEFGHIJKLMNOPQR", "18 characters"),
    ],
)
def test_bad_resident_ids_say_why(value: str, reason: str) -> None:
    with pytest.raises(VaultValueError, match=reason) as info:
        validate_resident_id(value)
    assert info.value.field == "identifier"


def test_bad_credit_codes_say_why() -> None:
    with pytest.raises(VaultValueError, match="check character"):
        validate_uscc("91350100M000100Y44")
    with pytest.raises(VaultValueError, match="without I, O, S, V, Z"):
        validate_uscc("91350100M000100YIO")


def test_check_characters_cover_every_remainder() -> None:
    seen = {resident_id_check(f"{n:017d}") for n in range(400)}
    assert seen == set("10X98765432")
    assert len({uscc_check(f"9135010{n:010d}") for n in range(200)}) > 20


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(VaultValueError, match="citizen"):
        validate("robot", "11010519491231002X")


def test_record_ids_are_uuid7_and_sort_by_creation() -> None:
    import uuid

    from vault.ids import new_record_id

    ids = [new_record_id() for _ in range(2000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(ids)) == len(ids)
    # Within one millisecond the order is random; across milliseconds it is creation order.
    stamps = [u.int >> 80 for u in parsed]
    assert stamps == sorted(stamps)
