"""The correction commands' answers to bad input, without a running vault: one `datavault:`
line and exit 2, before any network round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import cli
from api.cli import common
from keys import Keystore, MasterKey

RECORD = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    """A data directory with a keystore, as `datavault up` leaves it, but no server."""
    store = Keystore(tmp_path / "keystore", MasterKey.load(tmp_path / "master.key", create=True))
    for name in ("dept-gongan", "citizen-zhang-san"):
        store.create(name)
    return tmp_path


def error_line(capsys: pytest.CaptureFixture[str], datadir: Path, *argv: str) -> str:
    code = cli.main(["--datadir", str(datadir), *argv])
    out, err = capsys.readouterr()
    assert code == common.EXIT_ERROR and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), err
    return lines[0]


def usage_error(capsys: pytest.CaptureFixture[str], datadir: Path, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--datadir", str(datadir), *argv])
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_correct_checks_its_arguments_first(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    def correct(*argv: str) -> str:
        return error_line(capsys, datadir, "correct", "--as", "citizen-zhang-san", *argv)

    assert "'42' is not a record id" in correct("42", "--reason", "姓名错误", "--fields", '{"姓名": "张珊"}')
    assert "--reason must say why" in correct(RECORD, "--reason", "  ", "--fields", '{"姓名": "张珊"}')
    assert "at most 500" in correct(RECORD, "--reason", "错" * 501, "--fields", '{"姓名": "张珊"}')
    assert "--fields is not valid JSON" in correct(RECORD, "--reason", "姓名错误", "--fields", "{姓名")
    assert "non-empty JSON object" in correct(RECORD, "--reason", "姓名错误", "--fields", "{}")
    assert "is not a subject id" in correct(RECORD, "--reason", "姓名错误", "--fields", '{"a": 1}', "--for", "zhang")
    # The record id is checked before the key is even looked up.
    assert "is not a record id" in error_line(
        capsys, datadir, "correct", "--as", "nobody", "x", "--reason", "r", "--fields", '{"a": 1}'
    )
    line = error_line(capsys, datadir, "correct", "--as", "nobody", RECORD, "--reason", "r", "--fields", '{"a": 1}')
    assert "no key named 'nobody'" in line and "citizen-zhang-san" in line
    assert "--reason" in usage_error(capsys, datadir, "correct", "--as", "citizen-zhang-san", RECORD, "--fields", "{}")


def test_decide_needs_a_verdict_and_a_reason_to_reject(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    def decide(*argv: str) -> str:
        return error_line(capsys, datadir, "decide", "--as", "dept-gongan", *argv)

    assert "one of the arguments --accept --reject is required" in usage_error(
        capsys, datadir, "decide", "--as", "dept-gongan", RECORD
    )
    assert "not allowed with argument" in usage_error(
        capsys, datadir, "decide", "--as", "dept-gongan", RECORD, "--accept", "--reject"
    )
    assert "--note must say why" in decide(RECORD, "--reject")
    assert "--note must say why" in decide(RECORD, "--reject", "--note", " ")
    assert "at most 500" in decide(RECORD, "--accept", "--note", "注" * 501)
    assert "'c-1' is not a correction id" in decide("c-1", "--accept")


def test_listing_commands_check_their_options(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    assert "invalid choice: 'open'" in usage_error(
        capsys, datadir, "corrections", "--as", "dept-gongan", "--status", "open"
    )
    assert "not a notification id" in usage_error(
        capsys, datadir, "notifications", "--as", "dept-gongan", "--read", "abc"
    )
    assert "not allowed with argument" in usage_error(
        capsys, datadir, "notifications", "--as", "dept-gongan", "--unread", "--read", "1"
    )
    assert "is not a subject id" in error_line(
        capsys, datadir, "corrections", "--as", "citizen-zhang-san", "--for", "x"
    )


def test_without_a_running_vault_the_commands_say_so(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    for argv in (
        ("correct", "--as", "citizen-zhang-san", RECORD, "--reason", "姓名错误", "--fields", '{"姓名": "张珊"}'),
        ("corrections", "--as", "citizen-zhang-san"),
        ("decide", "--as", "dept-gongan", RECORD, "--accept"),
        ("notifications", "--as", "dept-gongan", "--unread"),
    ):
        line = error_line(capsys, datadir, *argv)
        assert "vault" in line, line
