"""Validation of the national identifiers a subject is registered with.

Both carry a check character, so a mistyped number is refused before it is hashed into a
pseudonym that would silently point at nobody.
"""

from __future__ import annotations

import re
from datetime import date

from vault.errors import VaultValueError

_RESIDENT_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_RESIDENT_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def normalise(identifier: str) -> str:
    return re.sub(r"\s+", "", identifier).upper()


def resident_id_check(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=False))
    return _RESIDENT_CHECK[total % 11]


def validate_resident_id(identifier: str) -> str:
    """GB 11643-1999 citizen identity number: 17 digits + check character."""
    value = normalise(identifier)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise VaultValueError("ID number must be 18 characters: 17 digits and a check digit", field="identifier")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise VaultValueError("ID number holds an impossible birth date", field="identifier") from None
    if resident_id_check(value[:17]) != value[17]:
        raise VaultValueError("ID number check digit does not match", field="identifier")
    return value


def uscc_check(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=False))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(identifier: str) -> str:
    """GB 32100-2015 unified social credit code: 18 characters + check character."""
    value = normalise(identifier)
    if not re.fullmatch(rf"[{_USCC_ALPHABET}]{{18}}", value):
        raise VaultValueError(
            "unified social credit code must be 18 characters of 0-9 and A-Y without I, O, S, V, Z",
            field="identifier",
        )
    if uscc_check(value[:17]) != value[17]:
        raise VaultValueError("unified social credit code check character does not match", field="identifier")
    return value


def validate(kind: str, identifier: str) -> str:
    if kind == "citizen":
        return validate_resident_id(identifier)
    if kind == "enterprise":
        return validate_uscc(identifier)
    raise VaultValueError("subject kind must be 'citizen' or 'enterprise'", field="kind")
