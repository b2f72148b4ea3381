"""GB/T 36903 metadata of a version 2 credential: the seven items per record type, taken from
the issuer's fields when it wrote them, and carried by the claims every export shares."""

from __future__ import annotations

from typing import Any

import pytest

from vault import licence_codes as licence_id
from vault.credentials.licence_fields import check_fields, check_issuer_fields
from vault.errors import VaultValueError
from vault.interop.claims import credential_claims
from vault.interop.e_licence import ELEMENTS, ELicenceFacts, metadata
from vault.record_types import GBT_TYPE_SEQUENCE, RECORD_TYPES

AUTHORITY = "11220000013544541J"
FACTS = ELicenceFacts(issuer_name="吉林省住房和城乡建设厅", authority_code=AUTHORITY, holder_name="张三")
RECORD_ID = "01935b2e-7c1a-7d2e-9f00-0123456789ab"


def document(record_type: str = "licence", **fields: Any) -> dict[str, Any]:
    return {
        "version": 2,
        "type": record_type,
        "title": "建筑施工特种作业操作资格证",
        "record": {"id": RECORD_ID, "version": 1},
        "issued_at": 1_735_660_800,  # 2024-12-31T16:00:00Z: already 2025-01-01 in Beijing
        "fields": fields or {"grade": "A"},
    }


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_every_record_type_maps_to_the_seven_items(record_type: str) -> None:
    found = metadata(document(record_type), FACTS)
    assert tuple(found) == ELEMENTS
    type_code = AUTHORITY + GBT_TYPE_SEQUENCE[record_type]
    serial = RECORD_ID.replace("-", "").upper()
    assert found == {
        "名称": "建筑施工特种作业操作资格证",
        "类型代码": type_code,
        "编号": RECORD_ID,
        "标识": licence_id.identifier(type_code, AUTHORITY, serial, 1),
        "颁发机构名称": "吉林省住房和城乡建设厅",
        "颁发日期": "2025-01-01",
        "持证主体名称": "张三",
    }
    assert licence_id.parse_identifier(found["标识"]) == (type_code, AUTHORITY, serial, 1)


def test_each_record_type_has_its_own_sequence() -> None:
    assert set(GBT_TYPE_SEQUENCE) == set(RECORD_TYPES)
    assert len(set(GBT_TYPE_SEQUENCE.values())) == len(RECORD_TYPES)


def test_a_correction_is_a_new_identifier_version() -> None:
    doc = document()
    doc["record"]["version"] = 2
    assert metadata(doc, FACTS)["标识"].split(".")[-2] == "002"


def test_the_issuers_fields_win() -> None:
    ident = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
    doc = document(编号="吉建安C3(2024)0001", 类型代码="11100000000013338W032", 标识=ident, 颁发日期="2024-03-01")
    found = metadata(doc, FACTS)
    assert found["编号"] == "吉建安C3(2024)0001"
    assert found["类型代码"] == "11100000000013338W032"
    assert found["标识"] == ident
    assert found["颁发日期"] == "2024-03-01"
    assert metadata(document(licence_number="L-7"), FACTS)["编号"] == "L-7"


def test_what_cannot_be_formed_is_left_out() -> None:
    found = metadata(document(), ELicenceFacts(issuer_name="某部门"))
    assert "标识" not in found and "类型代码" not in found and "持证主体名称" not in found
    assert found["颁发机构名称"] == "某部门" and found["编号"] == RECORD_ID


def test_claims_carry_the_metadata_once_and_stay_as_they_were_without_it() -> None:
    doc = document(编号="No.9", grade="A")
    assert credential_claims(doc) == {"title": doc["title"], "record_type": "licence", "编号": "No.9", "grade": "A"}
    claims = credential_claims(doc, e_licence=FACTS)
    assert set(ELEMENTS) <= set(claims) and claims["编号"] == "No.9" and claims["grade"] == "A"
    assert list(claims).count("编号") == 1


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"类型代码": "11100000000013338W32"}, "21 characters"),
        ({"标识": "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G"}, "should be F"),
        ({"颁发日期": "2024-02-30"}, "not a calendar date"),
        ({"颁发日期": "2024/02/01"}, "YYYY-MM-DD"),
        ({"持证主体名称": ""}, "1-200"),
        (
            {
                "类型代码": "11100000000013338W011",
                "标识": "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
            },
            "names 类型代码",
        ),
    ],
)
def test_bad_gbt_fields_are_refused(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(VaultValueError, match=why):
        check_fields(fields, "licence")


def test_the_issuer_confirms_its_name_and_code() -> None:
    ident = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
    check_issuer_fields({"标识": ident, "颁发机构名称": "甲"}, issuer_name="甲", authority_code=AUTHORITY)
    with pytest.raises(VaultValueError, match="not the issuing department"):
        check_issuer_fields({"颁发机构名称": "乙"}, issuer_name="甲", authority_code=AUTHORITY)
    with pytest.raises(VaultValueError, match="not this department"):
        check_issuer_fields({"标识": ident}, issuer_name="甲", authority_code="91440101MA5C44W11J")
    with pytest.raises(VaultValueError, match="has none registered"):
        check_issuer_fields({"标识": ident}, issuer_name="甲", authority_code=None)
