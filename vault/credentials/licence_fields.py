"""GB/T 36903 items an issuer writes as fields, checked when a credential is issued.

A field named as one of the standard's items (``vault.licence_codes``) is that item, shown as
such in every exported credential, so it must be what the standard says: a 类型代码 and a 标识
whose check characters hold, a real YYYY-MM-DD date, names as text; and only the issuer can
vouch for its own name and code. Fields of other names are not looked at.
"""

from __future__ import annotations

from typing import Any

from vault import licence_codes
from vault.errors import VaultValueError
from vault.licence_codes import (
    AUTHORITY_NAME,
    HOLDER_NAME,
    IDENTIFIER,
    ISSUE_DATE,
    NAME,
    NUMBER,
    TYPE_CODE,
    check_date,
)
from vault.record_types import GBT_TYPE_SEQUENCE

MAX_TEXT = 200


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise VaultValueError(f"{name} must be text of 1-{MAX_TEXT} characters", field=f"fields.{name}")
    return value


def check_fields(fields: dict[str, Any], record_type: str) -> None:
    """Fields named as GB/T 36903 items must be what the standard says they are: a type code
    and identifier that check, a real date, names as text. Fields of other names are not looked at."""
    for name in (NAME, NUMBER, AUTHORITY_NAME, HOLDER_NAME):
        _text(fields, name)
    code = fields.get(TYPE_CODE)
    if code is not None and (problem := licence_codes.type_code_problem(code)) is not None:
        raise VaultValueError(f"{TYPE_CODE} {problem}", field=f"fields.{TYPE_CODE}")
    if (ident := fields.get(IDENTIFIER)) is not None:
        try:
            in_ident = licence_codes.parse_identifier(ident)[0]
        except VaultValueError as exc:
            raise VaultValueError(exc.reason, field=f"fields.{IDENTIFIER}") from None
        if code is not None and in_ident != code:
            raise VaultValueError(
                f"{IDENTIFIER} names 类型代码 {in_ident}, the field {TYPE_CODE} {code}", field=f"fields.{IDENTIFIER}"
            )
    if (day := fields.get(ISSUE_DATE)) is not None:
        try:
            check_date(day)
        except VaultValueError as exc:
            raise VaultValueError(exc.reason, field=f"fields.{ISSUE_DATE}") from None
    if record_type not in GBT_TYPE_SEQUENCE:
        raise VaultValueError(f"record type {record_type!r} has no 证照类型代码", field="type")


def check_issuer_fields(fields: dict[str, Any], *, issuer_name: str, authority_code: str | None) -> None:
    """What only the issuer can confirm: its own name, and its code in an identifier it names."""
    name = fields.get(AUTHORITY_NAME)
    if name is not None and name != issuer_name:
        raise VaultValueError(
            f"{AUTHORITY_NAME} {name!r} is not the issuing department's name {issuer_name!r}",
            field=f"fields.{AUTHORITY_NAME}",
        )
    ident = fields.get(IDENTIFIER)
    if ident is None:
        return
    authority = licence_codes.parse_identifier(ident)[1]
    if authority_code is None:
        raise VaultValueError(
            f"{IDENTIFIER} names 颁发机构代码 {authority}, but this department has none registered",
            field=f"fields.{IDENTIFIER}",
        )
    if authority != authority_code:
        raise VaultValueError(
            f"{IDENTIFIER} names 颁发机构代码 {authority}, not this department's {authority_code}",
            field=f"fields.{IDENTIFIER}",
        )
