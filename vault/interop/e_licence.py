"""The basic metadata of a Chinese e-licence (GB/T 36903) of a version 2 credential.

Seven items, named as the standard names them (its element names are Chinese; no English
identifiers are invented here): 名称, 类型代码, 编号, 标识, 颁发机构名称, 颁发日期, 持证主体名称.
Each comes from the credential's own field of that name when the issuer wrote one (anchored
as written: a later rename of the department does not change an issued licence), and else:

- 名称: the credential's title;
- 类型代码: the department's 颁发机构代码 and the record type's sequence (``GBT_TYPE_SEQUENCE``);
- 编号: the field ``licence_number``, else the record id;
- 标识: GB/T 36904, from the type code, the department's code, the record id (its 32 hex
  digits, as the 流水号) and the record version; every part is anchored or fixed, so the
  identifier of a credential never changes;
- 颁发机构名称: the department's name;
- 颁发日期: the day of ``issued_at`` in China Standard Time (UTC+8), ``YYYY-MM-DD``;
- 持证主体名称: the holder's name (personal data: only in the holder's own export).

An item that cannot be formed (a department with no 颁发机构代码, a holder name not given) is
left out rather than made up. ``vault.credentials.licence_fields`` checks fields of these names at issuance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from vault import licence_codes
from vault.licence_codes import (
    AUTHORITY_NAME,
    ELEMENTS,
    HOLDER_NAME,
    IDENTIFIER,
    ISSUE_DATE,
    LICENCE_NUMBER,
    NAME,
    NUMBER,
    TYPE_CODE,
    ELicenceFacts,
)
from vault.record_types import GBT_TYPE_SEQUENCE

__all__ = ["ELEMENTS", "ELicenceFacts", "issue_date", "metadata", "type_code"]

CHINA_TIME = timezone(timedelta(hours=8), "CST")


def type_code(record_type: str, authority_code: str) -> str:
    """The 证照类型代码 a department defines for one of its record types."""
    return authority_code + GBT_TYPE_SEQUENCE[record_type]


def issue_date(issued_at: int) -> str:
    return datetime.fromtimestamp(issued_at, UTC).astimezone(CHINA_TIME).date().isoformat()


def metadata(document: dict[str, Any], facts: ELicenceFacts) -> dict[str, str]:
    """The GB/T 36903 items of the version 2 ``document`` that can be formed, in the standard's order."""
    fields: dict[str, Any] = document["fields"]
    record = document["record"]
    code = fields.get(TYPE_CODE)
    if code is None and facts.authority_code is not None:
        code = type_code(document["type"], facts.authority_code)
    ident = fields.get(IDENTIFIER)
    if ident is None and code is not None and facts.authority_code is not None:
        serial = str(record["id"]).replace("-", "").upper()
        ident = licence_codes.identifier(code, facts.authority_code, serial, int(record["version"]))
    found = {
        NAME: fields.get(NAME, document["title"]),
        TYPE_CODE: code,
        NUMBER: fields.get(NUMBER, fields.get(LICENCE_NUMBER, record["id"])),
        IDENTIFIER: ident,
        AUTHORITY_NAME: fields.get(AUTHORITY_NAME, facts.issuer_name),
        ISSUE_DATE: fields.get(ISSUE_DATE, issue_date(int(document["issued_at"]))),
        HOLDER_NAME: fields.get(HOLDER_NAME, facts.holder_name),
    }
    return {name: str(value) for name, value in found.items() if value is not None}
