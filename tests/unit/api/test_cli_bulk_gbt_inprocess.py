"""Bulk issuance with the column names of GB/T 36903: the credentials it issues export the
seven e-licence items, and bad values (type code, identifier check character, date, another
authority's identifier) refuse the whole file, each named by its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.cli import common
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import CITIZEN_ID, Harness
from vault import licence_codes
from vault.accounts import department_changes, departments
from vault.credentials import records
from vault.db.models import Record
from vault.interop.claims import credential_claims
from vault.licence_codes import ELEMENTS

AUTHORITY = "11220000013544541J"
TYPE_CODE = AUTHORITY + "001"  # this department's licence type
CATALOGUE_TYPE = "11100000000013338W032"  # a national catalogue's type code
HEADER = "持证主体代码类型,持证主体代码,type,名称,类型代码,编号,标识,颁发机构名称,颁发日期,持证主体名称,valid_until"


async def setup(h: Harness) -> None:
    dept = await h.department("zhujian", name="吉林省住房和城乡建设厅")
    async with h.vault.ctx.sessions() as s, s.begin():
        await department_changes.set_authority_code(h.vault.ctx, s, "zhujian", AUTHORITY, 1)
    await h.subject(dept, name="张三")
    keep_key(h, "dept-zhujian", dept)


async def count(h: Harness) -> int:
    async with h.vault.ctx.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Record)) or 0)


async def test_gbt_columns_issue_credentials_that_export_the_seven_items(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    await setup(h)
    given = licence_codes.identifier(CATALOGUE_TYPE, AUTHORITY, "2430599", 1)
    rows = [
        HEADER,
        f"居民身份证,{CITIZEN_ID},,建筑施工企业安全生产许可证,{TYPE_CODE},吉JZ安许(2025)001,,吉林省住房和城乡建设厅,2025-03-01,张三,2028-02-28",
        f"居民身份证,{CITIZEN_ID},certificate,特种作业操作资格证,{CATALOGUE_TYPE},,{given},,,,2028-02-28",
    ]
    path = tmp_path / "licences.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = await run_cli(h, monkeypatch, "issue-bulk", "--as", "dept-zhujian", str(path))
    assert code == 0, err
    issued = json.loads(out)["records"]
    assert len(issued) == 2
    async with h.vault.ctx.sessions() as s:
        claims = []
        for item in issued:
            row = await records.latest(s, item["id"])
            document = await records.decrypt(h.vault.ctx, s, row)
            facts = await departments.licence_facts(h.vault.ctx, s, document)
            claims.append(credential_claims(document, e_licence=facts))
    first, second = claims
    assert set(ELEMENTS) <= set(first) and set(ELEMENTS) <= set(second)
    assert first["record_type"] == "licence"  # from the type code's sequence: no type column
    assert first["名称"] == "建筑施工企业安全生产许可证" and first["类型代码"] == TYPE_CODE
    assert first["编号"] == "吉JZ安许(2025)001" and first["颁发日期"] == "2025-03-01"
    assert first["颁发机构名称"] == "吉林省住房和城乡建设厅" and first["持证主体名称"] == "张三"
    serial = issued[0]["id"].replace("-", "").upper()
    assert first["标识"] == licence_codes.identifier(TYPE_CODE, AUTHORITY, serial, 1)
    # A catalogue's type code, with the type given, and the identifier the file gave, kept.
    assert second["record_type"] == "certificate"
    assert second["标识"] == given and second["类型代码"] == CATALOGUE_TYPE
    assert second["持证主体名称"] == "张三" and second["编号"] == issued[1]["id"]


async def test_bad_gbt_values_refuse_the_file_naming_each_line(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    await setup(h)
    good = licence_codes.identifier(TYPE_CODE, AUTHORITY, "7", 1)
    elsewhere = licence_codes.identifier(TYPE_CODE, "91440101MA5C44W11J", "7", 1)
    rows = [
        HEADER,
        f"居民身份证,{CITIZEN_ID},,许可证,{TYPE_CODE},1,{good},,2025-03-01,张三,2028-02-28",  # 2: good
        f"居民身份证,{CITIZEN_ID},,许可证,{AUTHORITY}01,2,,,2025-03-01,张三,2028-02-28",  # 3: short type code
        f"居民身份证,{CITIZEN_ID},,许可证,{TYPE_CODE},3,{good[:-1]}0,,2025-03-01,张三,2028-02-28",  # 4: check char
        f"居民身份证,{CITIZEN_ID},,许可证,{TYPE_CODE},4,,,2025-02-30,张三,2028-02-28",  # 5: no such day
        f"居民身份证,{CITIZEN_ID},,许可证,{CATALOGUE_TYPE},5,,,2025-03-01,张三,2028-02-28",  # 6: no type
        f"居民身份证,{CITIZEN_ID},,许可证,{TYPE_CODE},6,{elsewhere},,2025-03-01,张三,2028-02-28",  # 7: vault
        f"居民身份证,{CITIZEN_ID},,许可证,{TYPE_CODE},7,,某某局,2025-03-01,张三,2028-02-28",  # 8: vault
    ]
    path = tmp_path / "licences.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = await count(h)
    code, out, err = await run_cli(h, monkeypatch, "issue-bulk", "--as", "dept-zhujian", str(path))
    assert code == common.EXIT_ERROR and out == "", err
    lines = [line for line in err.splitlines() if not line.startswith("checking")]
    assert lines[0] == "datavault: 6 problems in the file; nothing was issued:", err
    assert lines[1].startswith("  line 3: 类型代码") and "21 characters" in lines[1]
    assert lines[2].startswith("  line 4: 标识: its check character should be")
    assert lines[3].startswith("  line 5: 颁发日期 '2025-02-30' is not a calendar date")
    assert lines[4].startswith("  line 6: 类型代码 11100000000013338W032 ends in no record type's sequence")
    assert lines[5].startswith("  line 7: 标识 names 颁发机构代码 91440101MA5C44W11J, not this department's")
    assert lines[6].startswith("  line 8: 颁发机构名称 '某某局' is not the issuing department's name")
    assert len(lines) == 7
    assert await count(h) == before
