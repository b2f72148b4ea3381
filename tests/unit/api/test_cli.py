"""The CLI's answers to bad input, without a running vault: one `datavault:` line, exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from api import cli
from api.cli import access_log, common, core, parsing
from api.cli import audit as cli_audit
from api.client import ClientError, discover
from api.server import DataDirLock, StartError, base_url, listen, owns_datadir
from chain.consent import grant_id
from keys import Keystore, MasterKey
from vault.audit import log as audit_log
from vault.audit.proofs import MemoryNodeStore, inclusion_proof, root_at
from vault.audit.tree import leaf_hash
from vault.config import Settings
from vault.errors import VaultError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == common.EXIT_ERROR, (code, out, err)
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


def test_a_date_is_valid_through_that_day() -> None:
    assert parsing.parse_time("2027-12-31") == 1830297600  # 2028-01-01T00:00:00Z
    assert parsing.parse_time("1830211200") == 1830211200
    assert parsing.parse_time("2027-12-31T23:59:59+08:00") == 1830268799
    assert parsing.parse_time("2027-12-31T12:00:00") == 1830254400  # no offset: UTC
    with pytest.raises(common.CliError, match="is not a date"):
        parsing.parse_time("2027-13-45")
    with pytest.raises(common.CliError, match="is not a date"):
        parsing.parse_time("next year")


def test_fields_must_be_a_json_object(tmp_path: Path) -> None:
    assert parsing.parse_fields('{"结论": "无犯罪记录"}') == {"结论": "无犯罪记录"}
    (tmp_path / "f.json").write_text('{"a": [1]}', encoding="utf-8")
    assert parsing.parse_fields(f"@{tmp_path / 'f.json'}") == {"a": [1]}
    for text, reason in [
        ("{bad", "not valid JSON"),
        ("[1]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        (f"@{tmp_path / 'missing.json'}", "No such file"),
        (f"@{tmp_path}", "cannot read --fields"),
    ]:
        with pytest.raises(common.CliError, match=reason):
            parsing.parse_fields(text)


def test_unknown_login_key_lists_the_known_ones(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    line = error_line(capsys, "--datadir", str(datadir), "records", "--as", "citizen-li-si")
    assert "no key named 'citizen-li-si'" in line
    assert "citizen-zhang-san" in line and "dept-gongan" in line
    assert "-chain" not in line  # transaction keys are no login
    assert "invalid keystore entry name" in error_line(capsys, "--datadir", str(datadir), "records", "--as", "../x")


def test_local_mistakes_are_reported_before_looking_for_a_vault(
    capsys: pytest.CaptureFixture[str], datadir: Path
) -> None:
    base = [
        "--datadir",
        str(datadir),
        "issue",
        "--as",
        "dept-gongan",
        "--identifier",
        "11010519491231002X",
        "--type",
        "certificate",
        "--title",
        "t",
    ]
    assert "not valid JSON" in error_line(capsys, *base, "--fields", "{x", "--valid-until", "2027-12-31")
    assert "is not a date" in error_line(capsys, *base, "--fields", '{"a": 1}', "--valid-until", "soon")
    assert "no key named" in error_line(
        capsys, *base[:3], "--as", "dept-nobody", *base[5:], "--fields", '{"a": 1}', "--valid-until", "2027-12-31"
    )
    assert "no vault is running" in error_line(capsys, *base, "--fields", '{"a": 1}', "--valid-until", "2027-12-31")
    assert "--export needs a record id" in error_line(
        capsys, "--datadir", str(datadir), "records", "--as", "citizen-zhang-san", "--export"
    )


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
    assert "--proof goes with --hash" in error_line(
        capsys, "--datadir", str(tmp_path), "verify", str(tmp_path / "five.json"), "--proof", "0x1"
    )


HOSTILE_JSON = {  # Python's parser takes each; the request would then fail to encode
    '{"document": {"fields": {"分数": NaN}}}': "NaN is not a JSON number",
    '{"document": {"fields": {"分数": -Infinity}}}': "-Infinity is not a JSON number",
    '{"document": {"fields": {"分数": 1e400}}}': "too large",
    '{"document": {"fields": {"姓名": "\\ud800"}}}': "not valid Unicode",
    '{"document": ' * 100_000: "not valid JSON",
}


def test_json_the_vault_would_refuse_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Before: a ValueError or UnicodeEncodeError traceback and exit 1, the code of an INVALID verdict.
    for n, (text, reason) in enumerate(HOSTILE_JSON.items()):
        path = tmp_path / f"hostile-{n}.json"
        path.write_text(text, encoding="utf-8")
        assert reason in error_line(capsys, "--datadir", str(tmp_path), "verify", str(path)), text[:60]
        with pytest.raises(common.CliError, match=reason):
            parsing.parse_fields(f"@{path}")


def test_no_vault_running(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = error_line(capsys, "--datadir", str(tmp_path), "verify", "--hash", "0x" + "ab" * 32)
    assert "no vault is running" in line and "datavault --datadir" in line and "up" in line

    # What a kill -9 leaves behind: api.json naming a server that is gone.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "api.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid}))
    assert "did not stop cleanly" in error_line(
        capsys, "--datadir", str(tmp_path), "verify", "--hash", "0x" + "ab" * 32
    )

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
    verdict = {
        "valid": False,
        "checks": [
            {"name": "anchored", "passed": False, "reason": "the chain holds no such credential"},
            {"name": "document_validity", "passed": True, "reason": "within its validity period"},
        ],
    }
    assert core._summary(verdict) == "INVALID: anchored: the chain holds no such credential"
    assert core._summary({"valid": True, "issuer": {"code": "gongan", "name": "市公安局"}, "checks": []}).startswith(
        "valid: issued by 市公安局"
    )


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
    assert cli.parse(["demo"]).datadir == Path(".datavault").absolute()
    monkeypatch.setenv("DATAVAULT_DATADIR", str(tmp_path))
    assert cli.parse(["demo"]).datadir == tmp_path
    assert cli.parse(["--datadir", "x", "demo"]).datadir == Path("x")
    monkeypatch.setenv("DATAVAULT_CHAIN", "nonsense")  # read through Settings, validated as a whole
    with pytest.raises(VaultError, match="DATAVAULT_CHAIN"):
        cli.parse(["demo"])


# -- grants and agents: everything the CLI can tell without a vault ----------------------------


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_a_from_date_starts_that_day() -> None:
    assert parsing.parse_time("2027-12-31", start=True) == 1830211200  # 2027-12-31T00:00:00Z
    assert parsing.parse_time("1830211200", start=True) == 1830211200
    assert common.window(1830211200, 1830297600) == "from 2027-12-31 until the end of 2027-12-31 (UTC)"
    assert common.window(1830211200, 1830254400) == "from 2027-12-31 until 2027-12-31 12:00:00 (UTC)"


def test_grant_arguments_are_checked_before_looking_for_a_vault(
    capsys: pytest.CaptureFixture[str], datadir: Path
) -> None:
    def grant(**changes: str) -> str:
        options = {
            "--as": "citizen-zhang-san",
            "--to": "renshe",
            "--types": "licence",
            "--fields": "姓名,准驾车型",
            "--purpose": "核验驾驶资格",
            "--until": in_days(30),
            **changes,
        }
        return error_line(capsys, "--datadir", str(datadir), "grant", *(x for pair in options.items() for x in pair))

    assert "unknown record type 'passport'; use licence, certificate, data" in grant(**{"--types": "licence,passport"})
    assert "--types: empty item" in grant(**{"--types": "licence,"})
    assert "--fields: empty item in '姓名,,准驾车型'" in grant(**{"--fields": "姓名,,准驾车型"})
    assert "'住址..城市' is not a field path" in grant(**{"--fields": "住址..城市"})
    assert "'soon' is not a date" in grant(**{"--until": "soon"})
    assert "--until 2020-01-01 is already past" in grant(**{"--until": "2020-01-01"})
    assert f"--from {in_days(31)} is not before --until" in grant(**{"--from": in_days(31)})
    assert "--purpose must say why" in grant(**{"--purpose": "  "})
    assert "'0x12' is not a subject id" in grant(**{"--for": "0x12"})
    assert "no key named 'citizen-li-si'" in grant(**{"--as": "citizen-li-si"})
    # Chinese commas are commas too; with every argument sound, the next thing missing is the vault.
    assert "no vault is running" in grant(**{"--fields": "姓名，准驾车型", "--from": in_days(1)})


def test_grant_ids_and_options_of_the_other_commands(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    base = ["--datadir", str(datadir)]
    for command in (
        ["read", "--as", "dept-gongan"],
        ["revoke-grant", "--as", "citizen-zhang-san"],
        ["grants", "--as", "citizen-zhang-san"],
    ):
        assert "'42' is not a grant id: 0x and 64 hex digits" in error_line(capsys, *base, *command, "42")
    gid = "0x" + "ab" * 32
    assert "--receipt needs a grant id" in error_line(capsys, *base, "grants", "--as", "citizen-zhang-san", "--receipt")
    assert "unknown record type 'licenses'" in error_line(
        capsys, *base, "read", "--as", "dept-gongan", gid, "--types", "licenses"
    )
    assert "--fields: empty item" in error_line(capsys, *base, "read", "--as", "dept-gongan", gid, "--fields", "姓名,")
    assert "no key named 'dept-renshe'" in error_line(capsys, *base, "read", "--as", "dept-renshe", gid)
    assert "no vault is running" in error_line(
        capsys, *base, "read", "--as", "dept-gongan", gid, "--fields", "准驾车型"
    )


def test_an_agent_is_an_address_or_a_keystore_entry(capsys: pytest.CaptureFixture[str], datadir: Path) -> None:
    store = Keystore(datadir / "keystore", MasterKey.load(datadir / "master.key"))
    store.create("agent-wang-wu")
    assert common.agent_address(datadir, "agent-wang-wu") == store.address_of("agent-wang-wu")
    address = "0x" + "Ab" * 20
    assert common.agent_address(datadir, address) == address

    def delegate(agent: str, until: str = in_days(30)) -> str:
        return error_line(
            capsys,
            "--datadir",
            str(datadir),
            "delegate",
            "--as",
            "enterprise-minjiang",
            "--agent",
            agent,
            "--types",
            "licence",
            "--until",
            until,
        )

    assert "--agent 'wang-wu' is neither an address (0x and 40 hex digits) nor a key in" in delegate("wang-wu")
    assert "--agent '0xAb' is neither an address" in delegate("0xAb")
    assert "invalid keystore entry name" in delegate("../agent")
    assert "is already past" in delegate("agent-wang-wu", until="2020-06-30")
    assert "no key named 'enterprise-minjiang'" in delegate(
        "agent-wang-wu"
    )  # the agent was found; the subject's key is not


def test_terms_other_than_asked_are_not_signed() -> None:
    typed = {
        "primaryType": "Grant",
        "domain": {},
        "message": {
            "subject": "0x" + "AB" * 32,
            "grantee": "0x" + "Cd" * 20,
            "recordTypes": 1,
            "fields": ["准驾车型"],
            "purposeCode": "101",
            "purpose": "核验驾驶资格",
            "expiresAt": 1830297600,
            "maxUses": 1,
            "nonce": 7,
        },
    }
    asked = {
        "subject": "0x" + "ab" * 32,
        "grantee": "0x" + "cD" * 20,
        "recordTypes": 1,
        "fields": ["准驾车型"],
        "purposeCode": 101,
        "purpose": "核验驾驶资格",
        "expiresAt": 1830297600,
        "maxUses": 1,
    }
    assert common.expect(typed, "Grant", asked) is typed["message"]  # hex in any case, numbers as text
    for name, other in [
        ("fields", ["准驾车型", "档案编号"]),
        ("maxUses", 1000),
        ("grantee", "0x" + "ee" * 20),
        ("recordTypes", 7),
    ]:
        with pytest.raises(
            common.CliError, match=f"a Grant whose {name} differ from what was asked; nothing was signed"
        ):
            common.expect(typed, "Grant", {**asked, name: other})
    with pytest.raises(common.CliError, match="did not prepare a Revocation"):
        common.expect(typed, "Revocation", {})
    subject = bytes.fromhex("ab" * 32)
    gid = "0x" + grant_id(subject, 7).hex()
    assert common.grant_nonce_matches("0x" + "ab" * 32, "7", gid)
    assert not common.grant_nonce_matches("0x" + "ab" * 32, 8, gid)
    assert not common.grant_nonce_matches("0x" + "ab" * 32, "seven", gid)


def test_grant_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    grant = [
        "grant",
        "--as",
        "x",
        "--to",
        "renshe",
        "--types",
        "licence",
        "--fields",
        "姓名",
        "--purpose",
        "p",
        "--until",
        "2030-01-01",
    ]
    for argv in (
        [*grant, "--uses", "0"],
        [*grant, "--uses", "many"],
        [*grant, "--purpose-code", "70000"],
        grant[:3],
        ["revoke-delegation", "--as", "x", "first"],
        ["revoke-delegation", "--as", "x", "0"],
        ["delegate", "--as", "x", "--types", "licence", "--until", "2030-01-01"],
        ["read", "--as", "x"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and "error:" in err, argv


# -- the access log: auditors' `audit ...` and subjects' `access-log` --------------------------


def test_the_head_text_is_the_logs() -> None:
    root = bytes(range(32))
    assert cli_audit.head_text(42, "0x" + root.hex(), 1795000000) == audit_log.head_text(42, root, 1795000000)


def test_audit_arguments_are_checked_before_looking_for_a_vault(
    capsys: pytest.CaptureFixture[str], datadir: Path
) -> None:
    Keystore(datadir / "keystore", MasterKey.load(datadir / "master.key")).create("auditor")

    def trace(*options: str, key: str = "auditor") -> str:
        return error_line(capsys, "--datadir", str(datadir), "audit", "trace", "--as", key, *options)

    assert "'0x12' is not a subject id" in trace("--subject", "0x12")
    assert "--department 'Renshe' is not a department code" in trace("--department", "Renshe")
    assert "--official '0x12' is not an address" in trace("--official", "0x12")
    assert "'42' is not a grant id" in trace("--grant", "42")
    assert "--action 'drop table' is not an action" in trace("--action", "drop table")
    assert "'soon' is not a date" in trace("--from", "soon")
    assert "--from 2030-01-01 is not before --until 2029-12-31" in trace(
        "--from", "2030-01-01", "--until", "2029-12-31"
    )
    assert "no key named 'auditor-li'" in trace(key="auditor-li")
    # --until includes its day, --from starts it: one day is a non-empty range.
    assert "no vault is running" in trace(
        "--from",
        "2030-01-01",
        "--until",
        "2030-01-01",
        "--official",
        "0x" + "Ab" * 20,
        "--grant",
        "0x" + "ab" * 32,
        "--action",
        "grant.used",
        "--format",
        "csv",
    )
    base = ["--datadir", str(datadir)]
    assert "'0x12' is not a subject id" in error_line(
        capsys, *base, "access-log", "--as", "citizen-zhang-san", "--for", "0x12"
    )
    assert "no key named 'auditor-li'" in error_line(capsys, *base, "audit", "verify", "--as", "auditor-li")
    assert "no vault is running" in error_line(capsys, *base, "audit", "heads", "--as", "auditor")
    assert "no vault is running" in error_line(capsys, *base, "access-log", "--as", "citizen-zhang-san", "--verify")


def test_audit_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["audit"],
        ["audit", "frobnicate"],
        ["audit", "trace"],
        ["audit", "verify"],
        ["access-log"],
        ["audit", "trace", "--as", "x", "--limit", "0"],
        ["audit", "trace", "--as", "x", "--limit", "all"],
        ["audit", "trace", "--as", "x", "--format", "xml"],
        ["audit", "trace", "--as", "x", "--outcome", "maybe"],
        ["audit", "heads", "--as", "x", "--limit", "1001"],
        ["access-log", "--as", "x", "--limit", "-3"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and "error:" in err, argv


def test_the_verify_report_in_one_line() -> None:
    report = {
        "ok": True,
        "status": "verified",
        "tree_size": 17,
        "anchored_size": 17,
        "entries_checked": 17,
        "heads_checked": 1,
        "anchors_checked": 2,
        "findings": [],
        "summary": "the log is complete and untampered up to the head anchored on chain at size 17",
    }
    assert cli_audit.report_summary(report) == (
        "ok: the log is complete and untampered up to the head anchored on chain at size 17; "
        "17 entries, 1 signed head, 2 anchored heads checked"
    )
    findings = [
        {"kind": "modified", "seq": 3, "detail": "entry 3 was altered"},
        {"kind": "unanchored", "seq": None, "detail": "x"},
    ]
    summary = cli_audit.report_summary({**report, "ok": False, "findings": findings})
    assert summary.startswith("FINDINGS (2): modified at seq 3: entry 3 was altered; unanchored: x; ")


NOTHING_ANCHORED = {
    "ok": False,
    "status": "nothing_anchored",
    "tree_size": 5,
    "anchored_size": 0,
    "entries_checked": 5,
    "heads_checked": 0,
    "anchors_checked": 0,
    "findings": [],
    "summary": "nothing anchored yet: no tree head is on chain, so the 5 entries and 0 signed heads fit together "
    "but are not proven untampered",
}


@pytest.mark.parametrize(
    ("report", "code", "first_word"),
    [
        (NOTHING_ANCHORED, 3, "NOT VERIFIED: nothing anchored yet"),
        ({**NOTHING_ANCHORED, "ok": True, "status": "verified", "summary": "the log is complete"}, 0, "ok: "),
        (
            {**NOTHING_ANCHORED, "status": "findings", "findings": [{"kind": "modified", "seq": 1, "detail": "x"}]},
            1,
            "FINDINGS (1)",
        ),
    ],
)
def test_audit_verify_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    report: dict[str, Any],
    code: int,
    first_word: str,
) -> None:
    """0 proven, 1 findings, 3 nothing anchored yet: never "untampered" when nothing was proven."""
    import contextlib

    class Auditor:
        role, name = "auditor", "auditor"

        def post(self, path: str) -> dict[str, Any]:
            assert path == "/audit/verify"
            return report

    monkeypatch.setattr(cli_audit, "logged_in", lambda _args: contextlib.nullcontext(Auditor()))
    exit_code, out, err = run(capsys, "audit", "verify", "--as", "auditor")
    assert exit_code == code and json.loads(out) == report
    assert err.startswith(first_word) and len(err.strip().splitlines()) == 1


def access_entries(count: int) -> list[dict[str, Any]]:
    """An access log as the API serves it: entries 0..count-1 proved against the tree of all."""
    docs = [
        {"v": 1, "seq": seq, "action": "grant.used", "actor": "renshe", "official": "0x" + "Ab" * 20}
        for seq in range(count)
    ]
    store = MemoryNodeStore.from_leaf_hashes(leaf_hash(audit_log.canonical(d)) for d in docs)
    root = "0x" + root_at(store, count).hex()
    return [
        {
            "seq": d["seq"],
            "entry": d,
            "pending": False,
            "proof": {
                "tree_size": count,
                "root": root,
                "path": ["0x" + p.hex() for p in inclusion_proof(store, d["seq"], count)],
                "tx_hash": "0x" + "cd" * 32,
                "block_number": 7,
            },
        }
        for d in docs
    ]


def test_access_log_verify_checks_every_proof_here(capsys: pytest.CaptureFixture[str]) -> None:
    entries = access_entries(5)
    pending = {"seq": 5, "entry": {"v": 1, "seq": 5}, "pending": True, "proof": None}
    assert access_log._verify_entries([*entries, pending], 1) == 0
    err = capsys.readouterr().err
    assert err.startswith("verified 5 of 5 entries against tree size 5, root 0x") and "(block 7); 1 pending" in err
    entries[1]["entry"] = {**entries[1]["entry"], "official": "0x" + "ee" * 20}  # altered after the fact
    entries[3]["proof"] = {**entries[3]["proof"], "path": entries[3]["proof"]["path"][:-1]}  # a proof cut short
    assert access_log._verify_entries(entries, 0) == common.EXIT_INVALID
    assert capsys.readouterr().err.startswith("FAILED: 2 of 5 entries do not verify (seq 1, 3) against tree size 5")
    assert access_log._verify_entries([pending], 1) == 0
    assert capsys.readouterr().err.startswith("nothing to verify yet")
