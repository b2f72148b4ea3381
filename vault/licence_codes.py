"""Codes of the Chinese e-licence standards: the 统一社会信用代码 (GB 32100), the 证照类型代码
and the 电子证照标识 (GB/T 36904), each checked by its own check character; the names of
the GB/T 36903 metadata items and its date format.

An identifier reads ``1.2.156.3005.2.<类型代码>.<颁发机构代码>.<流水号>.<版本号>.<校验位>``:

- ``1.2.156.3005.2``: the OID root of Chinese e-licences;
- 类型代码: the defining authority's 统一社会信用代码 (18) and a 3-digit sequence it assigns;
- 颁发机构代码: the issuing authority's 统一社会信用代码 (18);
- 流水号: the licence's serial, digits and capital letters (here: its record id's 32 hex digits);
- 版本号: 3 digits, the licence's version (a correction is a new version);
- 校验位: ISO/IEC 7064 MOD 37,36 over the four segments before it, dots removed.

The check algorithm is the one public e-licence platforms compute (and that their published
identifiers satisfy, see the unit tests); the standard's text itself was not at hand.

Pure functions, no I/O, nothing heavy imported: the issuance checks and the CLI use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from vault.errors import VaultValueError

# The basic metadata items of GB/T 36903, named as the standard names them.
NAME, TYPE_CODE, NUMBER, IDENTIFIER = "名称", "类型代码", "编号", "标识"
AUTHORITY_NAME, ISSUE_DATE, HOLDER_NAME = "颁发机构名称", "颁发日期", "持证主体名称"
ELEMENTS = (NAME, TYPE_CODE, NUMBER, IDENTIFIER, AUTHORITY_NAME, ISSUE_DATE, HOLDER_NAME)
LICENCE_NUMBER = "licence_number"  # an issuer's English name for 编号
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ELicenceFacts:
    """What the metadata needs beyond the document: who issued it and to whom, by name."""

    issuer_name: str
    authority_code: str | None = None  # the department's 统一社会信用代码 (颁发机构代码)
    holder_name: str | None = None


ROOT = "1.2.156.3005.2"
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# GB 32100: 31 characters, no I, O, S, V, Z (they read like digits).
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_SERIAL = re.compile(r"[0-9A-Z]{1,64}")
_VERSION = re.compile(r"[0-9]{3}")


def uscc_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 (GB 32100: weighted sum mod 31)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_problem(code: object) -> str | None:
    """Why ``code`` is not a 统一社会信用代码, or None."""
    if not isinstance(code, str) or not _USCC.fullmatch(code):
        return "must be 18 characters: digits and capital letters other than I, O, S, V, Z"
    if uscc_check_char(code[:17]) != code[17]:
        return f"its check character should be {uscc_check_char(code[:17])}, not {code[17]}"
    return None


def check_uscc(code: object, field: str) -> str:
    problem = uscc_problem(code)
    if problem is not None:
        raise VaultValueError(f"{field} is not a 统一社会信用代码: {problem}", field=field)
    return str(code)


def type_code_problem(code: object) -> str | None:
    """Why ``code`` is not a 证照类型代码 (an authority's code and a 3-digit sequence), or None."""
    if not isinstance(code, str) or len(code) != 21 or not _VERSION.fullmatch(code[18:]):
        return "must be 21 characters: the defining authority's 统一社会信用代码 and 3 digits"
    problem = uscc_problem(code[:18])
    return None if problem is None else f"its authority code {code[:18]}: {problem}"


def mod37_36(text: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of ``text`` (digits and capital letters)."""
    product = 36
    for char in text:
        total = (product + _ALNUM.index(char)) % 36 or 36
        product = total * 2 % 37
    return _ALNUM[(37 - product) % 36]


def identifier(type_code: str, authority_code: str, serial: str, version: int) -> str:
    """The 电子证照标识 of these segments, with its check character."""
    if (problem := type_code_problem(type_code)) is not None:
        raise VaultValueError(f"类型代码 {problem}", field="类型代码")
    check_uscc(authority_code, "颁发机构代码")
    if not _SERIAL.fullmatch(serial):
        raise VaultValueError("the serial must be 1-64 digits or capital letters", field="编号")
    if not 1 <= version <= 999:
        raise VaultValueError("a licence version is 1-999", field="版本号")
    body = [type_code, authority_code, serial, f"{version:03d}"]
    return ".".join([ROOT, *body, mod37_36("".join(body))])


def parse_identifier(text: object) -> tuple[str, str, str, int]:
    """(类型代码, 颁发机构代码, 流水号, 版本号) of a well-formed 电子证照标识; raises saying why not."""
    if not isinstance(text, str) or not text.startswith(ROOT + "."):
        raise VaultValueError(f"标识 must start with the e-licence root {ROOT}.", field="标识")
    parts = text[len(ROOT) + 1 :].split(".")
    if len(parts) != 5:
        raise VaultValueError(
            "标识 must have five segments after the root: 类型代码.颁发机构代码.流水号.版本号.校验位", field="标识"
        )
    type_code, authority, serial, version, check = parts
    if (problem := type_code_problem(type_code)) is not None:
        raise VaultValueError(f"标识: 类型代码 {problem}", field="标识")
    if (problem := uscc_problem(authority)) is not None:
        raise VaultValueError(f"标识: 颁发机构代码 {problem}", field="标识")
    if not _SERIAL.fullmatch(serial) or not _VERSION.fullmatch(version) or version == "000":
        raise VaultValueError("标识: 流水号 must be digits or capital letters, 版本号 001-999", field="标识")
    expected = mod37_36(type_code + authority + serial + version)
    if check != expected:
        raise VaultValueError(f"标识: its check character should be {expected}, not {check!r}", field="标识")
    return type_code, authority, serial, int(version)


def check_date(value: object, name: str = ISSUE_DATE) -> str:
    """``value`` if it is a real calendar date written YYYY-MM-DD (the standard's date format)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise VaultValueError(f"{name} must be a date written YYYY-MM-DD, not {value!r}", field=name)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise VaultValueError(f"{name} {value!r} is not a calendar date", field=name) from None
    return value
