"""GB 32100 and GB/T 36904 codes: check characters on identifiers published by e-licence
platforms, and every kind of malformed code refused with its reason."""

from __future__ import annotations

import pytest

from vault import licence_codes as licence_id
from vault.errors import VaultValueError

# Identifiers as public e-licence platforms issued them (a construction permit, a safety
# certificate, a registry file name, a Hefei real-estate certificate).
PUBLISHED = (
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
)


@pytest.mark.parametrize("code", ["91440101MA5C44W11J", "11100000000013338W", "11430000006122244L"])
def test_published_credit_codes_check(code: str) -> None:
    assert licence_id.uscc_problem(code) is None
    assert licence_id.check_uscc(code, "code") == code


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91440101MA5C44W11K", "check character should be J"),
        ("91440101MA5C44W11", "18 characters"),
        ("91440101MA5C44W1IJ", "other than I"),
        (None, "18 characters"),
    ],
)
def test_bad_credit_codes_say_why(code: object, why: str) -> None:
    problem = licence_id.uscc_problem(code)
    assert problem is not None and why in problem


@pytest.mark.parametrize("text", PUBLISHED)
def test_published_identifiers_parse_and_rebuild(text: str) -> None:
    type_code, authority, serial, version = licence_id.parse_identifier(text)
    assert licence_id.identifier(type_code, authority, serial, version) == text


def test_the_check_character_is_iso_7064_mod_37_36() -> None:
    # Each character changed anywhere changes the check character (single errors are caught).
    body = "11100000000013338W03211220000013544541J2430599001"
    assert licence_id.mod37_36(body) == "F"
    for i in range(len(body)):
        other = "1" if body[i] != "1" else "2"
        assert licence_id.mod37_36(body[:i] + other + body[i + 1 :]) != "F"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G", "should be F"),
        ("1.2.156.3005.1.11100000000013338W032.11220000013544541J.2430599.001.F", "root"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.F", "five segments"),
        ("1.2.156.3005.2.11100000000013338X032.11220000013544541J.2430599.001.F", "类型代码"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541K.2430599.001.F", "颁发机构代码"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.24-30599.001.F", "流水号"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.000.F", "版本号"),
        (42, "root"),
    ],
)
def test_malformed_identifiers_are_refused_saying_why(text: object, why: str) -> None:
    with pytest.raises(VaultValueError, match=why):
        licence_id.parse_identifier(text)


def test_type_codes() -> None:
    assert licence_id.type_code_problem("11100000000013338W032") is None
    assert "21 characters" in str(licence_id.type_code_problem("11100000000013338W32"))
    assert "check character" in str(licence_id.type_code_problem("11100000000013338X032"))
