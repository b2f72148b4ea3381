"""The CLI's answers to bad input, without a running vault: one `datavault:` line, exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api import cli
from api.client import ClientError, discover
from api.server import DataDirLock, StartError, base_url, listen, owns_datadir
from keys import Keystore, MasterKey
from vault.config import CHAIN_KINDS, Settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_ERROR, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), err
    return lines[0]


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    """A data directory with a keystore, as `datavault up` leaves it, but no server."""
    store = Keystore(tmp_path / "keystore", MasterKey.load(tmp_path / "master.key", create=True))
    for name in ("admin", "dept-gongan", "dept-gongan-chain", "citizen-zhang-san"):
        store.create(name)
    return tmp_path


def test_chain_kinds_match_the_vault() -> None:
    assert cli.CHAIN_KINDS == CHAIN_KINDS


def test_a_date_is_valid_through_that_day() -> None:
    assert cli.parse_time("2027-12-31") == 1830297600  # 2028-01-01T00:00:00Z
    assert cli.parse_time("1830211200") == 1830211200
    assert cli.parse_time("2027-12-31T23:59:59+08:00") == 1830268799
    assert cli.parse_time("2027-12-31T12:00:00") == 1830254400  # no offset: UTC
    with pytest.raises(cli.CliError, match="is not a date"):
        cli.parse_time("2027-13-45")
    with pytest.raises(cli.CliError, match="is not a date"):
        cli.parse_time("next year")


def test_fields_must_be_a_json_object(tmp_path: Path) -> None:
    assert cli.parse_fields('{"结论": "无犯罪记录"}') == {"结论": "无犯罪记录"}
    (tmp_path / "f.json").write_text('{"a": [1]}', encoding="utf-8")
    assert cli.parse_fields(f"@{tmp_path / 'f.json'}") == {"a": [1]}
    for text, reason in [("{bad", "not valid JSON"), ("[1]", "non-empty JSON object"), ("{}", "non-empty JSON object"),
                         (f"@{tmp_path / 'missing.json'}", "No such file"), (f"@{tmp_path}", "cannot read --fields")]:
        with pytest.raises(cli.CliError, match=reason):
            cli.parse_fields(text)


def test_unknown_login_key_lists_the_known_ones(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    line = error_line(capsys, "--datadir", str(datadir), "records", "--as", "citizen-li-si")
    assert "no key named 'citizen-li-si'" in line
    assert "citizen-zhang-san" in line and "dept-gongan" in line
    assert "-chain" not in line  # transaction keys are no login
    assert "invalid keystore entry name" in error_line(capsys, "--datadir", str(datadir), "records", "--as", "../x")


def test_local_mistakes_are_reported_before_looking_for_a_vault(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    base = ["--datadir", str(datadir), "issue", "--as", "dept-gongan", "--identifier", "11010519491231002X",
            "--type", "certificate", "--title", "t"]
    assert "not valid JSON" in error_line(capsys, *base, "--fields", "{x", "--valid-until", "2027-12-31")
    assert "is not a date" in error_line(capsys, *base, "--fields", '{"a": 1}', "--valid-until", "soon")
    assert "no key named" in error_line(capsys, *base[:3], "--as", "dept-nobody", *base[5:], "--fields", '{"a": 1}', "--valid-until", "2027-12-31")
    assert "no vault is running" in error_line(capsys, *base, "--fields", '{"a": 1}', "--valid-until", "2027-12-31")
    assert "--export needs a record id" in error_line(capsys, "--datadir", str(datadir), "records", "--as", "citizen-zhang-san", "--export")


def test_verify_input_that_is_no_credential(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "five.json").write_text("5")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe")
    (tmp_path / "broken.json").write_text('{"document": ')
    cases = {
        str(tmp_path / "missing.json"): "No such file",
        str(tmp_path): "cannot read a credential",
        str(tmp_path / "binary.json"): "not UTF-8",
        str(tmp_path / "five.json"): "is not a credential",
        str(tmp_path / "broken.json"): "is not valid JSON",
    }
    for path, reason in cases.items():
        assert reason in error_line(capsys, "--datadir", str(tmp_path), "verify", path), path
    assert "--proof goes with --hash" in error_line(capsys, "--datadir", str(tmp_path), "verify", str(tmp_path / "five.json"), "--proof", "0x1")


def test_no_vault_running(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = error_line(capsys, "--datadir", str(tmp_path), "verify", "--hash", "0x" + "ab" * 32)
    assert "no vault is running" in line and "datavault --datadir" in line and "up" in line

    # What a kill -9 leaves behind: api.json naming a server that is gone.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "api.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid}))
    assert "did not stop cleanly" in error_line(capsys, "--datadir", str(tmp_path), "verify", "--hash", "0x" + "ab" * 32)

    (tmp_path / "api.json").write_text("{")
    with pytest.raises(ClientError, match="cannot read"):
        discover(tmp_path)


def test_unreachable_api(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = error_line(capsys, "--api", f"http://127.0.0.1:{port}", "verify", "--hash", "0x" + "ab" * 32)
    assert "cannot reach the vault" in line
    assert "cannot reach the vault" in error_line(capsys, "--api", "not-a-url", "verify", "--hash", "0x" + "ab" * 32)


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["up", "--port", "99999"], ["up", "--chain", "fabric"], ["issue", "--as", "x"], ["verify"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_verdict_summary_names_the_failed_check() -> None:
    verdict = {"valid": False, "checks": [
        {"name": "anchored", "passed": False, "reason": "the chain holds no such credential"},
        {"name": "document_validity", "passed": True, "reason": "within its validity period"},
    ]}
    assert cli._summary(verdict) == "INVALID: anchored: the chain holds no such credential"
    assert cli._summary({"valid": True, "issuer": {"code": "gongan", "name": "市公安局"}, "checks": []}).startswith("valid: issued by 市公安局")


def test_one_vault_per_data_directory(tmp_path: Path) -> None:
    with DataDirLock(tmp_path):
        with pytest.raises(StartError, match="already running") as exc:
            DataDirLock(tmp_path).acquire()
        assert str(os.getpid()) in str(exc.value)
    with DataDirLock(tmp_path):  # released: the next start may go ahead
        pass


def test_only_single_writer_state_locks_the_data_directory(tmp_path: Path) -> None:
    assert owns_datadir(Settings(datadir=tmp_path))
    assert owns_datadir(Settings(datadir=tmp_path, database_url="postgresql://u@h/db", chain="anvil"))
    assert not owns_datadir(Settings(datadir=tmp_path, database_url="postgresql://u@h/db", chain="rpc"))


def test_a_taken_port_is_named(tmp_path: Path) -> None:
    first = listen("127.0.0.1", 0)
    try:
        first.listen()
        port = first.getsockname()[1]
        assert base_url(first) == f"http://127.0.0.1:{port}"
        with pytest.raises(StartError, match=f"port {port} on 127.0.0.1 is already in use"):
            listen("127.0.0.1", port)
    finally:
        first.close()
    wildcard = listen("0.0.0.0", 0)
    try:
        assert base_url(wildcard).startswith("http://127.0.0.1:")
    finally:
        wildcard.close()


def test_datadir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATAVAULT_DATADIR", raising=False)
    assert cli.parser().parse_args(["demo"]).datadir == Path(".datavault")
    monkeypatch.setenv("DATAVAULT_DATADIR", str(tmp_path))
    assert cli.parser().parse_args(["demo"]).datadir == tmp_path
    assert cli.parser().parse_args(["--datadir", "x", "demo"]).datadir == Path("x")
