"""`datavault issue-bulk` without a running vault: reading CSV and JSON lines, and the answers
to bad input (one `datavault:` line naming the file's line, exit 2, before any request)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from api import cli
from api.cli import bulk as cli_bulk
from api.cli import bulk_file, common
from api.client import ApiError
from keys import Keystore, MasterKey

CITIZEN_ID = "11010519491231002X"
ENTERPRISE_ID = "91350100M000100Y43"
END_OF_2027 = 1830297600
START_OF_2026 = 1767225600


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    """A data directory with a keystore, as `datavault up` leaves it, but no server."""
    store = Keystore(tmp_path / "keystore", MasterKey.load(tmp_path / "master.key", create=True))
    store.create("dept-gongan")
    return tmp_path


def error_line(capsys: pytest.CaptureFixture[str], datadir: Path, *argv: str) -> str:
    code = cli.main(["--datadir", str(datadir), *argv])
    out, err = capsys.readouterr()
    assert code == common.EXIT_ERROR and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), err
    return lines[0]


def bulk_error(capsys: pytest.CaptureFixture[str], datadir: Path, name: str, text: str, *extra: str) -> str:
    path = datadir / name
    path.write_text(text, encoding="utf-8")
    return error_line(capsys, datadir, "issue-bulk", "--as", "dept-gongan", str(path), *extra)


CSV = (
    "kind,identifier,type,title,valid_until,valid_from,准驾车型,fields\n"
    f"citizen,{CITIZEN_ID},licence,机动车驾驶证,2027-12-31,,C1,\n"
    "\n"
    f'enterprise,{ENTERPRISE_ID},licence,营业执照,{END_OF_2027},2026-01-01,,"{{""注册资本"": 100}}"\n'
)


def test_csv_rows_become_api_items_with_their_line_numbers() -> None:
    items = bulk_file.read_csv(CSV)
    assert [line for line, _ in items] == [2, 4]
    first, second = items[0][1], items[1][1]
    assert first == {
        "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
        "type": "licence",
        "title": "机动车驾驶证",
        "fields": {"准驾车型": "C1"},
        "valid_until": END_OF_2027,
    }
    assert second["subject"] == {"kind": "enterprise", "identifier": ENTERPRISE_ID}
    assert second["fields"] == {"注册资本": 100}  # empty cells are no field
    assert second["valid_from"] == START_OF_2026 and second["valid_until"] == END_OF_2027


def test_csv_line_numbers_count_line_breaks_inside_cells() -> None:
    text = (
        f'identifier,type,title,valid_until,备注\n{CITIZEN_ID},data,t,2027-12-31,"一\n二"\n'
        f"{CITIZEN_ID},data,t,2027-12-31,三\n"
    )
    items = bulk_file.read_csv(text)
    assert [line for line, _ in items] == [2, 4] and items[0][1]["fields"] == {"备注": "一\n二"}


def test_csv_kind_defaults_to_citizen_and_subject_id_works() -> None:
    sid = "0x" + "ab" * 32
    items = bulk_file.read_csv(f"identifier,type,title,valid_until,结论\n{CITIZEN_ID},certificate,证明,2027-12-31,无\n")
    assert items[0][1]["subject"] == {"kind": "citizen", "identifier": CITIZEN_ID}
    items = bulk_file.read_csv(f"\ufeffsubject_id,type,title,valid_until,结论\n{sid},data,数据,2027-12-31,有\n")
    assert items[0][1]["subject"] == {"subject_id": sid}


def test_json_lines_take_the_api_item_or_top_level_subject() -> None:
    text = "\n".join(
        [
            json.dumps(
                {
                    "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
                    "type": "licence",
                    "title": "证",
                    "fields": {"a": 1},
                    "valid_until": END_OF_2027,
                }
            ),
            "",
            json.dumps(
                {
                    "kind": "enterprise",
                    "identifier": ENTERPRISE_ID,
                    "type": "data",
                    "title": "数据",
                    "fields": {"b": [1]},
                    "valid_until": "2027-12-31",
                    "valid_from": "2026-01-01",
                }
            ),
        ]
    )
    items = bulk_file.read_jsonl(text)
    assert [line for line, _ in items] == [1, 3]
    assert items[1][1] == {
        "subject": {"kind": "enterprise", "identifier": ENTERPRISE_ID},
        "type": "data",
        "title": "数据",
        "fields": {"b": [1]},
        "valid_until": END_OF_2027,
        "valid_from": START_OF_2026,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("identifier,type,title\n", "line 1: the CSV header lacks a valid_until column"),
        ("type,title,valid_until,x\n", "line 1: the CSV header needs an identifier"),
        (
            f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,2027-12-31,1\n{CITIZEN_ID},passport,t,2027-12-31,1\n",
            "line 3: type must be one of",
        ),
        (f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,someday,1\n", "line 2: 'someday' is not a date"),
        (f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,,2027-12-31,1\n", "line 2: title is missing"),
        (f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,2027-12-31,\n", "line 2: no fields"),
        (
            f"identifier,type,title,valid_until,fields\n{CITIZEN_ID},licence,t,2027-12-31,{{oops\n",
            "line 2: the fields column is not valid JSON",
        ),
        (
            f'identifier,type,title,valid_until,fields\n{CITIZEN_ID},licence,t,2027-12-31,"{{""a"": NaN}}"\n',
            "line 2: the fields column is not valid JSON: NaN is not a JSON number",
        ),
        (
            f'identifier,type,title,valid_until,x,fields\n{CITIZEN_ID},licence,t,2027-12-31,1,"{{""x"": 2}}"\n',
            "line 2: field 'x' is both",
        ),
        (
            f"kind,identifier,type,title,valid_until,x\nperson,{CITIZEN_ID},licence,t,2027-12-31,1\n",
            "line 2: kind must be citizen or enterprise",
        ),
        (
            f"identifier,subject_id,type,title,valid_until,x\n{CITIZEN_ID},0x12,licence,t,2027-12-31,1\n",
            "line 2: give subject_id or identifier, not both",
        ),
        ("identifier,type,title,valid_until,x\n,licence,t,2027-12-31,1\n", "line 2: no subject"),
        (
            f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,2027-12-31,1,extra\n",
            "line 2: more cells than the header",
        ),
        ("identifier,type,title,valid_until,x\n", "holds no credentials"),
    ],
)
def test_csv_errors_name_the_line(capsys: pytest.CaptureFixture[str], datadir: Path, text: str, expected: str) -> None:
    assert expected in bulk_error(capsys, datadir, "items.csv", text)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"type": '], "line 1: not valid JSON"),
        (["", "[1, 2]"], "line 2: expected a JSON object"),
        (
            [
                json.dumps(
                    {
                        "kind": "citizen",
                        "identifier": CITIZEN_ID,
                        "type": "licence",
                        "title": "t",
                        "fields": {"a": 1},
                        "valid_until": 1,
                        "colour": "red",
                    }
                )
            ],
            "line 1: unknown key(s) colour",
        ),
        (
            [
                json.dumps(
                    {
                        "kind": "citizen",
                        "identifier": CITIZEN_ID,
                        "type": "licence",
                        "title": "t",
                        "fields": "a",
                        "valid_until": 1,
                    }
                )
            ],
            "line 1: fields must be a JSON object",
        ),
        (
            [json.dumps({"subject": "x", "type": "licence", "title": "t", "fields": {"a": 1}, "valid_until": 1})],
            "line 1: subject must be an object",
        ),
        (
            [
                json.dumps(
                    {
                        "kind": "citizen",
                        "identifier": CITIZEN_ID,
                        "type": "licence",
                        "title": "t",
                        "fields": {"a": 1},
                        "valid_until": True,
                    }
                )
            ],
            "line 1: valid_until must be a date",
        ),
    ],
)
def test_json_lines_errors_name_the_line(
    capsys: pytest.CaptureFixture[str], datadir: Path, lines: list[str], expected: str
) -> None:
    assert expected in bulk_error(capsys, datadir, "items.jsonl", "\n".join(lines) + "\n")


def test_every_bad_line_is_reported_at_once(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    rows = [f"{CITIZEN_ID},licence,t,2027-12-31,1"] * 150
    rows[2] = f"{CITIZEN_ID},passport,t,2027-12-31,1"
    rows[5] = f"{CITIZEN_ID},licence,t,someday,1"
    for n in range(20, 130):
        rows[n] = f"{CITIZEN_ID},licence,,2027-12-31,1"
    path = datadir / "items.csv"
    path.write_text("identifier,type,title,valid_until,x\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code = cli.main(["--datadir", str(datadir), "issue-bulk", "--as", "dept-gongan", str(path)])
    out, err = capsys.readouterr()
    assert code == common.EXIT_ERROR and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith(
        "datavault: 112 problems in the file; nothing was issued (the vault did not check the other lines: "
        "no vault is running"
    )
    assert lines[1].startswith("  line 4: type must be one of") and lines[2].startswith(
        "  line 7: 'someday' is not a date"
    )
    assert lines[3] == "  line 22: title is missing" and lines[100] == "  line 119: title is missing"
    assert lines[101:] == ["  ... and 12 more"]


def test_dry_run_goes_with_neither_no_check_nor_wait(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    good = f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,2027-12-31,1\n"
    assert "--dry-run only checks" in bulk_error(capsys, datadir, "good.csv", good, "--dry-run", "--no-check")
    assert "--dry-run only checks" in bulk_error(capsys, datadir, "good.csv", good, "--dry-run", "--wait")


def test_the_format_follows_the_suffix_else_the_content(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    item = {
        "kind": "citizen",
        "identifier": CITIZEN_ID,
        "type": "licence",
        "title": "t",
        "fields": {"a": 1},
        "valid_until": 1,
        "colour": 1,
    }
    assert "unknown key(s) colour" in bulk_error(capsys, datadir, "items.txt", json.dumps(item) + "\n")
    assert "CSV header" in bulk_error(capsys, datadir, "items.jsonl", "a,b\n", "--format", "csv")


def test_file_key_and_vault_errors(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    line = error_line(capsys, datadir, "issue-bulk", "--as", "dept-gongan", str(datadir / "missing.csv"))
    assert "cannot read credentials from" in line and "missing.csv" in line
    good = datadir / "good.csv"
    good.write_text(f"identifier,type,title,valid_until,x\n{CITIZEN_ID},licence,t,2027-12-31,1\n", encoding="utf-8")
    assert "no key named 'dept-nobody'" in error_line(capsys, datadir, "issue-bulk", "--as", "dept-nobody", str(good))
    assert "no vault is running" in error_line(capsys, datadir, "issue-bulk", "--as", "dept-gongan", str(good))
    (datadir / "bad.csv").write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in error_line(capsys, datadir, "issue-bulk", "--as", "dept-gongan", str(datadir / "bad.csv"))


@pytest.mark.parametrize("chunk", ["0", "10001", "many"])
def test_chunk_size_is_checked(capsys: pytest.CaptureFixture[str], datadir: Path, chunk: str) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--datadir", str(datadir), "issue-bulk", "--as", "dept-gongan", "x.csv", "--chunk", chunk])
    assert exc.value.code == 2 and "--chunk" in capsys.readouterr().err


def test_api_refusals_point_at_the_line() -> None:
    lines = [5, 7, 9]
    vault = {
        "detail": "item 2: no citizen ...",
        "field": "items.2.subject",
        "more_errors": 0,
        "errors": [{"index": 2, "field": "subject", "reason": "no citizen with identifier X is registered"}],
    }
    assert str(cli_bulk._refused(ApiError(422, vault), lines)) == "line 9: no citizen with identifier X is registered"
    schema = {
        "detail": "items.1.type: Input should be 'licence'",
        "errors": [
            {"loc": ["body", "items", "1", "type"], "msg": "Input should be 'licence'", "type": "literal_error"}
        ],
    }
    assert str(cli_bulk._refused(ApiError(422, schema), lines)) == "line 7: type: Input should be 'licence'"
    several = {
        "detail": "...",
        "more_errors": 4,
        "errors": [
            {"index": 2, "field": "valid_until", "reason": "valid_until must be later than valid_from"},
            {"index": 0, "field": "subject", "reason": "no enterprise with identifier Y is registered"},
        ],
    }
    assert str(cli_bulk._refused(ApiError(422, several), lines)).splitlines() == [
        "6 problems in the file; nothing was issued:",
        "  line 5: no enterprise with identifier Y is registered",
        "  line 9: valid_until must be later than valid_from",
        "  ... and 4 more",
    ]
    refused = cli_bulk._refused(
        ApiError(403, {"title": "Forbidden", "detail": "department 'x' is not an active issuer"}), lines
    )
    assert str(refused) == "403 Forbidden: department 'x' is not an active issuer"


def test_progress_is_plain_text_lines_off_a_terminal() -> None:
    out = io.StringIO()
    bar = cli_bulk.Progress("issuing", 3000, out)
    bar.update(1000)
    bar.update(3000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    assert lines[0].startswith("issuing [##########....................] 1,000/3,000")
    assert lines[1].startswith("issuing [##############################] 3,000/3,000")
