"""`datavault issue-bulk` against the in-process vault: every bad line of a file reported in
one pass (the file's own checks and the vault's), subjects named as the file named them, and
``--dry-run`` issuing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.cli import common
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, Harness
from vault.accounts import subjects
from vault.accounts.identifiers import resident_id_check
from vault.db.models import Record

UNKNOWN_ID = "11010519800101001" + resident_id_check("11010519800101001")  # well formed, never registered


async def records(h: Harness) -> int:
    async with h.vault.ctx.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Record)) or 0)


async def test_one_pass_names_every_bad_line(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    dept = await h.department("gongan")
    await h.subject(dept)
    keep_key(h, "dept-gongan", dept)
    rows = [
        "kind,identifier,type,title,valid_until,valid_from,结论",
        f"citizen,{CITIZEN_ID},certificate,无犯罪记录证明,2027-12-31,,无",  # line 2: good
        f"citizen,{UNKNOWN_ID},certificate,无犯罪记录证明,2027-12-31,,无",  # 3: nobody registered
        f"citizen,{CITIZEN_ID},passport,护照,2027-12-31,,无",  # 4: the file's own check
        f"enterprise,{ENTERPRISE_ID},licence,营业执照,2027-12-31,2028-01-01,有",  # 5: two problems, both named
        f"citizen,{CITIZEN_ID},certificate,{'长' * 201},2027-12-31,,无",  # 6: the request schema's check
        f"citizen,{CITIZEN_ID},certificate,无犯罪记录证明,2027-12-31,,无",  # 7: good
    ]
    path = tmp_path / "credentials.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = await records(h)
    for extra in ((), ("--dry-run",)):
        code, out, err = await run_cli(h, monkeypatch, "issue-bulk", "--as", "dept-gongan", str(path), *extra)
        assert code == common.EXIT_ERROR and out == "", (code, out, err)
        lines = [line for line in err.splitlines() if not line.startswith("checking")]
        assert lines[0] == "datavault: 5 problems in the file; nothing was issued:", err
        assert lines[1] == f"  line 3: no citizen with identifier {UNKNOWN_ID} is registered"
        assert lines[2].startswith("  line 4: type must be one of")
        assert lines[3] == "  line 5: valid_until must be later than valid_from"
        assert lines[4] == f"  line 5: no enterprise with identifier {ENTERPRISE_ID} is registered"
        assert lines[5].startswith("  line 6: title: String should have at most 200 characters")
        assert len(lines) == 6
        assert subjects.subject_id_for(h.vault.ctx, "citizen", UNKNOWN_ID) not in err
    assert await records(h) == before

    # Fixed, the file passes the dry run, which issues nothing; then it is issued.
    path.write_text("\n".join([rows[0], rows[1], rows[6]]) + "\n", encoding="utf-8")
    code, out, err = await run_cli(h, monkeypatch, "issue-bulk", "--as", "dept-gongan", str(path), "--dry-run")
    assert code == 0 and json.loads(out) == {"count": 2, "dry_run": True}, err
    assert "every one can be issued; nothing was issued" in err
    assert await records(h) == before
    code, out, err = await run_cli(h, monkeypatch, "issue-bulk", "--as", "dept-gongan", str(path))
    assert code == 0 and json.loads(out)["count"] == 2, err
    assert await records(h) == before + 2
