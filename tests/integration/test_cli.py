"""`datavault` the way the README tells a newcomer to use it, with real processes.

`datavault up --demo` runs as a subprocess on anvil and SQLite in a temporary data directory;
the terminal commands run as subprocesses against it. Then the server is killed (-9) and
started again, twice, and finally stopped with Ctrl-C: every record must still be readable,
every anchored credential must still verify, and no process may be left behind.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from api.demo import GRANT as DEMO_GRANT
from chain.engines.process import free_port
from keys import Keystore, MasterKey
from tests.integration.chain.nodes import node_pids

pytestmark = pytest.mark.integration

T = TypeVar("T")
CITIZEN = "citizen-zhang-san"
ENTERPRISE = "enterprise-minjiang"
AGENT = "agent-minjiang-wang-wu"
RENSHE = "dept-renshe"
AUDITOR = "auditor"
CITIZEN_ID = "11010519491231002X"
DEMO_TITLES = {
    "居民身份证 Resident identity card",
    "机动车驾驶证 Driving licence",
    "学位证书 Degree certificate",
    "社会保险参保证明 Social insurance record",
}
README_ISSUE = [
    "issue",
    "--as",
    "dept-gongan",
    "--identifier",
    CITIZEN_ID,
    "--type",
    "certificate",
    "--title",
    "无犯罪记录证明",
    "--fields",
    '{"结论": "无犯罪记录"}',
    "--valid-until",
    "2027-12-31",
]
END_OF_2027 = 1830297600  # 2028-01-01T00:00:00Z: "valid until 2027-12-31" includes the 31st
START_TIMEOUT = 120.0  # anvil + deploy on a loaded 2-core machine
SETTLE_TIMEOUT = 60.0


def datavault() -> list[str]:
    """The console script a newcomer runs, installed next to this interpreter."""
    script = Path(sys.executable).with_name("datavault")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def clean_env() -> dict[str, str]:
    # The embedded default (SQLite + anvil, keys in the data directory), whatever the shell says.
    return {k: v for k, v in os.environ.items() if not k.startswith("DATAVAULT_")}


def poll(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Asserts a command failed the way the CLI promises: exit 2, one `datavault:` line."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datavault: "), result.stderr
    return lines[0]


@dataclass
class Vault:
    datadir: Path
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*datavault(), "--datadir", str(self.datadir), *args],
            input=stdin,
            capture_output=True,
            check=False,
            text=True,
            timeout=timeout,
            env=clean_env(),
            cwd=self.datadir.parent,
        )

    def ok(self, *args: str, stdin: str | None = None) -> Any:
        result = self.cli(*args, stdin=stdin)
        assert result.returncode == 0, (args, result.returncode, result.stderr)
        assert "Traceback" not in result.stderr
        return json.loads(result.stdout)

    def start(self, *extra: str) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*datavault(), "--datadir", str(self.datadir), "up", "--port", str(self.port), *extra],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_env(),
                cwd=self.datadir.parent,
                start_new_session=True,
            )
        self.url = poll(self._answering, START_TIMEOUT, "`datavault up` to answer", interval=0.1)

    def _answering(self) -> str | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"`datavault up` exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            info = json.loads((self.datadir / "api.json").read_text())
        except (OSError, ValueError):
            return None
        if info.get("pid") != self.proc.pid:
            return None  # the file a killed run left behind
        try:
            with urllib.request.urlopen(f"{info['url']}/health", timeout=5) as response:
                return str(info["url"]) if response.status == 200 else None
        except OSError:
            return None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def anvil_pid(self) -> int:
        return int(json.loads((self.datadir / "anvil.pid").read_text())["pid"])

    def kill_9(self, *, with_node: bool) -> None:
        """SIGKILL the server's process group (and, if asked, the node's: it runs in its own)."""
        assert self.proc is not None
        anvil = self.anvil_pid()
        os.killpg(self.proc.pid, signal.SIGKILL)
        if with_node:
            with contextlib.suppress(ProcessLookupError):  # gone already if it shared the group
                os.killpg(anvil, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def records(self, who: str = CITIZEN) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.ok("records", "--as", who)
        return records

    def settled(self, who: str = CITIZEN, at_least: int = 1) -> list[dict[str, Any]]:
        """The subject's records once there are ``at_least`` of them and every one is anchored."""

        def check() -> list[dict[str, Any]] | None:
            records = self.records(who)
            return records if len(records) >= at_least and all(r["status"] == "anchored" for r in records) else None

        return poll(check, SETTLE_TIMEOUT, f"{who}'s records to be anchored", interval=0.5)

    def verify(self, credential: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        result = self.cli("verify", "-", stdin=json.dumps(credential, ensure_ascii=False))
        assert result.returncode in (0, 1), (result.returncode, result.stderr)
        assert "Traceback" not in result.stderr
        return result.returncode, json.loads(result.stdout), result.stderr

    def cli_many(self, commands: list[tuple[list[str], str | None]]) -> list[subprocess.CompletedProcess[str]]:
        """Several commands (argv, stdin) started side by side: most of a CLI run is start-up."""
        procs = [
            subprocess.Popen(
                [*datavault(), "--datadir", str(self.datadir), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=clean_env(),
                cwd=self.datadir.parent,
            )
            for args, _ in commands
        ]
        results = []
        try:
            for proc, (args, stdin) in zip(procs, commands, strict=True):
                out, err = proc.communicate(stdin or "", timeout=60)
                results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return results

    def verify_all(self, credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = self.cli_many([(["verify", "-"], json.dumps(c, ensure_ascii=False)) for c in credentials])
        for result in results:
            assert result.returncode in (0, 1) and "Traceback" not in result.stderr, (result.returncode, result.stderr)
        return [json.loads(r.stdout) for r in results]

    def assert_all_verify(self) -> set[str]:
        """Every record of both demo subjects is readable and its credential verifies; their ids."""
        records = self.settled(CITIZEN, len(DEMO_TITLES)) + self.settled(ENTERPRISE, 1)
        assert all(r["document"]["fields"] for r in records)  # decrypted, not just listed
        for record, verdict in zip(records, self.verify_all([exported(r) for r in records]), strict=True):
            assert verdict["valid"], (record["document"]["title"], verdict["checks"])
        return {r["id"] for r in records}


def exported(record: dict[str, Any]) -> dict[str, Any]:
    """What `records <id> --export` prints, built from a listed record."""
    return {"document": record["document"], "proof": record["anchor"]["proof"]}


def failed_checks(verdict: dict[str, Any]) -> list[str]:
    return [c["name"] for c in verdict["checks"] if not c["passed"]]


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def grant_args(who: str = CITIZEN, *extra: str, to: str = "renshe", fields: str = "准驾车型") -> list[str]:
    return [
        "grant",
        "--as",
        who,
        "--to",
        to,
        "--types",
        "licence",
        "--fields",
        fields,
        "--purpose",
        "核验驾驶资格",
        "--until",
        in_days(30),
        *extra,
    ]


def parsed(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0 and "Traceback" not in result.stderr, (result.args, result.returncode, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    base = tmp_path_factory.mktemp("cli")
    v = Vault(datadir=base / "vault-data", log=base / "up.log")
    try:
        v.start("--demo")
        # The API answers before the demo has seeded everyone; tests start from the whole demo.
        poll(lambda: "Try: datavault --datadir" in v.log_tail(400) or None, 60, "the demo to finish")
        yield v
    finally:
        if v.proc is not None and v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait(timeout=30)
        # The server and its node both name the (unique) data directory on their command line.
        for pid in node_pids(str(v.datadir)):
            os.kill(pid, signal.SIGKILL)


def test_demo_records_are_listed_and_decrypted(vault: Vault) -> None:
    records = vault.settled(CITIZEN, len(DEMO_TITLES))
    assert {r["document"]["title"] for r in records} >= DEMO_TITLES
    card = next(r for r in records if r["document"]["title"].startswith("居民身份证"))
    assert card["document"]["fields"]["姓名"] == "张三"
    assert card["issuer"] == "gongan" and card["anchor"]["tx_hash"].startswith("0x")
    log = poll(
        lambda: "Try: datavault --datadir" in vault.log_tail(400) and vault.log_tail(400), 30, "the demo to finish"
    )
    assert f"data vault is up: {vault.url}" in log and vault.url.endswith(f":{vault.port}")


def test_export_verifies_and_a_tampered_copy_does_not(vault: Vault, tmp_path: Path) -> None:
    card = next(r for r in vault.settled(CITIZEN, len(DEMO_TITLES)) if r["type"] == "licence")
    exported_card = vault.ok("records", "--as", CITIZEN, card["id"], "--export")
    assert exported_card == exported(card)
    licence = tmp_path / "licence.json"
    licence.write_text(json.dumps(exported_card, ensure_ascii=False, indent=2), encoding="utf-8")

    result = vault.cli("verify", str(licence))
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"] and verdict["issuer"]["code"] == "gongan"
    assert verdict["credential_hash"] == card["credential_hash"]
    assert result.stderr.startswith("valid:")

    tampered = copy.deepcopy(exported_card)
    tampered["document"]["fields"]["姓名"] = "李四"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    result = vault.cli("verify", str(forged))
    assert result.returncode == 1, (result.returncode, result.stderr)
    verdict = json.loads(result.stdout)
    assert not verdict["valid"] and "anchored" in failed_checks(verdict)
    assert result.stderr.startswith("INVALID: anchored:"), result.stderr

    by_hash = vault.ok("verify", "--hash", card["credential_hash"])
    assert by_hash["valid"]


def test_a_licence_shown_as_a_qr_code_is_checked_online_and_offline(vault: Vault, tmp_path: Path) -> None:
    card = next(r for r in vault.settled(CITIZEN, len(DEMO_TITLES)) if "姓名" in r["document"]["fields"])
    png, svg = tmp_path / "card.png", tmp_path / "card.svg"
    shown = vault.ok("present", "--as", CITIZEN, card["id"], "--fields", "姓名", "--png", str(png), "--svg", str(svg))
    assert (
        shown["text"].startswith("DV1:")
        and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and b"<svg" in svg.read_bytes()
    )
    # Online, from the picture, as a verifier department.
    verdict = vault.ok("check", "--image", str(png), "--as", "dept-gongan")
    assert verdict["valid"] and verdict["disclosed"] == {"姓名": "张三"}, verdict["checks"]
    again = vault.cli("check", shown["text"], "--as", "dept-gongan")
    assert again.returncode == 1 and "INVALID: not_replayed" in again.stderr, again.stderr
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(png.read_bytes()[:200])
    broken = vault.cli("check", "--image", str(damaged), "--as", "dept-gongan")
    assert broken.returncode == 1 and json.loads(broken.stdout)["failed"] == ["qr_image"], broken.stderr
    # Offline: a signed status snapshot instead of the vault and the chain.
    snapshot = tmp_path / "status.json"
    fetched = vault.cli("status-snapshot", "--out", str(snapshot))
    assert fetched.returncode == 0 and snapshot.stat().st_size > 0, fetched.stderr
    fresh = vault.ok("present", "--as", CITIZEN, card["id"], "--fields", "姓名")
    seen = tmp_path / "seen.json"
    offline = vault.ok("check", fresh["text"], "--offline", str(snapshot), "--seen", str(seen))
    assert offline["valid"] and offline["mode"] == "offline" and offline["snapshot_age"] < 600, offline["checks"]
    replayed = vault.cli("check", fresh["text"], "--offline", str(snapshot), "--seen", str(seen))
    assert replayed.returncode == 1 and json.loads(replayed.stdout)["failed"] == ["not_replayed"]


def test_issue_from_the_terminal(vault: Vault) -> None:
    before = {r["id"] for r in vault.records(CITIZEN)}
    issued = vault.ok(*README_ISSUE)
    assert issued["status"] == "pending" and issued["issuer"] == "gongan"
    assert issued["valid_until"] == END_OF_2027
    assert issued["document"]["fields"] == {"结论": "无犯罪记录"}

    records = vault.settled(CITIZEN, len(before) + 1)
    mine = next(r for r in records if r["id"] == issued["id"])
    assert mine["credential_hash"] == issued["credential_hash"]
    code, verdict, _ = vault.verify(exported(mine))
    assert code == 0 and verdict["valid"], verdict["checks"]


def test_issue_bulk_from_a_csv_file(vault: Vault, tmp_path: Path) -> None:
    rows = [
        ["kind", "identifier", "type", "title", "valid_until", "编号"],
        ["citizen", CITIZEN_ID, "certificate", "无犯罪记录证明", "2027-12-31", "NCR-1"],
        ["citizen", CITIZEN_ID, "certificate", "无犯罪记录证明", "2027-12-31", "NCR-2"],
        ["enterprise", "91350100M000100Y43", "licence", "营业执照", "2027-12-31", "BL-1"],
    ]
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    for path, body in (
        (good, rows),
        (bad, [*rows[:2], ["citizen", "110101199003073511", "data", "x", "2027-12-31", "1"]]),
    ):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(body)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    result = vault.cli("issue-bulk", "--as", "dept-gongan", str(bad))
    assert result.returncode == 2 and result.stdout == "", result.stderr
    # After the progress line of the check, the refusal: the file's line and its identifier.
    assert (
        result.stderr.strip().splitlines()[-1]
        == "datavault: line 3: no citizen with identifier 110101199003073511 is registered"
    )
    checked = parsed(vault.cli("issue-bulk", "--as", "dept-gongan", str(good), "--dry-run"))
    assert checked == {"count": 3, "dry_run": True}
    issued = parsed(vault.cli("issue-bulk", "--as", "dept-gongan", str(good), "--wait"))
    assert issued["count"] == 3 and [r["line"] for r in issued["records"]] == [2, 3, 4]
    (anchor,) = issued["anchors"]
    assert anchor["count"] == 3 and anchor["tx_hash"].startswith("0x")


def test_the_demo_grant_discloses_only_its_fields(vault: Vault) -> None:
    def anchored() -> list[dict[str, Any]]:
        return [
            g
            for g in vault.ok("grants", "--as", RENSHE)
            if g["purpose"] == DEMO_GRANT["purpose"] and g["status"] == "active"
        ]

    (grant,) = poll(anchored, SETTLE_TIMEOUT, "the demo grant to be anchored", interval=0.5)
    result = vault.cli("read", "--as", RENSHE, grant["id"])
    disclosure = parsed(result)
    assert disclosure["purpose"] == DEMO_GRANT["purpose"] and disclosure["uses"] == grant["uses"] + 1
    disclosed = [r["fields"] for r in disclosure["records"]]
    assert {"姓名": "张三", "准驾车型": "C1"} in disclosed  # the driving licence ...
    assert all(set(fields) <= {"姓名", "准驾车型"} for fields in disclosed)  # ... and no other field of any licence
    assert "档案编号" not in result.stdout and "110100000001" not in result.stdout and "住址" not in result.stdout
    assert f"{len(disclosed)} records disclosed" in result.stderr

    receipt, firm, acting = map(
        parsed,
        vault.cli_many(
            [
                (["grants", "--as", CITIZEN, grant["id"], "--receipt"], None),
                (["delegations", "--as", ENTERPRISE], None),
                (["delegations", "--as", AGENT], None),
            ]
        ),
    )
    assert receipt["grantee"]["code"] == "renshe" and receipt["fields"] == ["姓名", "准驾车型"]
    assert receipt["purpose"]["text"] == DEMO_GRANT["purpose"] and receipt["chain"]["tx_hash"] == grant["tx_hash"]
    assert CITIZEN_ID not in json.dumps(receipt, ensure_ascii=False)
    (agent,) = [d for d in firm if d["status"] in ("pending", "active")]
    assert agent["kind"] == "agent" and agent["record_types"] == ["licence"]
    assert acting == [agent["subject_id"]]  # the demo's agent acts for the enterprise


def test_grant_read_revoke_from_the_terminal(vault: Vault) -> None:
    granted = vault.cli(*grant_args(CITIZEN, "--purpose-code", "101", "--uses", "2", "--wait"))
    grant = parsed(granted)
    assert (
        grant["status"] == "active" and grant["tx_hash"] and grant["fields"] == ["准驾车型"] and grant["max_uses"] == 2
    )
    # What was signed, in words, before signing it.
    for shown in (
        "renshe 市人力资源和社会保障局",
        "types    licence",
        "fields   准驾车型",
        "核验驾驶资格 (code 101)",
        f"until the end of {in_days(30)} (UTC)",
        "at most 2 reads",
        "EIP-712 Grant",
    ):
        assert shown in granted.stderr, shown

    read, outside = vault.cli_many(
        [
            (["read", "--as", RENSHE, grant["id"]], None),
            (["read", "--as", RENSHE, grant["id"], "--fields", "档案编号"], None),
        ]
    )
    assert [r["fields"] for r in parsed(read)["records"]] == [{"准驾车型": "C1"}]
    assert "姓名" not in read.stdout and "档案编号" not in read.stdout
    assert "field 档案编号 is outside this grant" in one_line_error(outside)

    assert vault.ok("revoke-grant", "--as", CITIZEN, grant["id"])["status"] == "revoked"
    refused = one_line_error(vault.cli("read", "--as", RENSHE, grant["id"]))
    assert "403" in refused and "the subject revoked it" in refused

    # A field no licence has yet, granted on purpose: reading finds nothing and spends nothing.
    unissued = parsed(vault.cli(*grant_args(CITIZEN, "--allow-unissued-fields", "--wait", fields="血型")))
    assert unissued["fields"] == ["血型"] and unissued["status"] == "active"
    empty = vault.cli("read", "--as", RENSHE, unissued["id"])
    assert parsed(empty)["records"] == [] and parsed(empty)["uses"] == 0
    assert "nothing disclosed" in empty.stderr and "no use counted" in empty.stderr


def test_an_agent_grants_for_the_enterprise_and_is_withdrawn(vault: Vault) -> None:
    (firm_id,) = vault.ok("delegations", "--as", AGENT)
    stranger = "0x" + os.urandom(20).hex()
    by_agent, appointed = map(
        parsed,
        vault.cli_many(
            [
                (grant_args(AGENT, "--for", firm_id, fields="名称,法定代表人"), None),
                (
                    [
                        "delegate",
                        "--as",
                        ENTERPRISE,
                        "--agent",
                        stranger,
                        "--types",
                        "certificate",
                        "--until",
                        in_days(10),
                    ],
                    None,
                ),
            ]
        ),
    )
    assert (
        by_agent["subject_id"] == firm_id
        and by_agent["status"] == "pending"
        and by_agent["fields"] == ["名称", "法定代表人"]
    )
    assert appointed["agent"].lower() == stranger and appointed["record_types"] == ["certificate"]
    assert by_agent["signer"] != appointed["appointed_by"]  # the agent's own key, not the enterprise's
    withdrawn = vault.ok("revoke-delegation", "--as", ENTERPRISE, str(appointed["id"]))
    assert withdrawn["status"] == "revoked"
    assert "already revoked" in one_line_error(vault.cli("revoke-delegation", "--as", ENTERPRISE, str(appointed["id"])))


def test_bad_input_gets_one_line_and_exit_2(vault: Vault, tmp_path: Path) -> None:
    issue = README_ISSUE[:-4]  # everything but --fields and --valid-until
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    cases = [
        (["records", "--as", "citizen-nobody"], "no key named 'citizen-nobody'"),
        ([*issue, "--fields", "{结论: 无犯罪记录}", "--valid-until", "2027-12-31"], "--fields is not valid JSON"),
        ([*issue, "--fields", "[1, 2]", "--valid-until", "2027-12-31"], "--fields must be a non-empty JSON object"),
        ([*issue, "--fields", '{"a": 1}', "--valid-until", "2027-13-45"], "'2027-13-45' is not a date"),
        ([*issue, "--fields", '{"a": 1}', "--valid-until", "2020-01-01"], "valid_until must be later than valid_from"),
        (["verify", str(tmp_path / "missing.json")], "cannot read a credential from"),
        (["verify", str(binary)], "not UTF-8"),
        (["verify", str(tmp_path)], "cannot read a credential from"),
        (["records", "--as", CITIZEN, "--export"], "--export needs a record id"),
        (["records", "--as", "dept-gongan"], "needs a citizen or enterprise"),
        (grant_args("dept-gongan"), "'dept-gongan' is a department's key"),
        (grant_args(to="gongan"), "department 'gongan' is not an active data user"),
        (grant_args(fields="血型"), "no licence record of this subject has the field 血型: the fields that exist are"),
        (["grants", "--as", AGENT], "name the subject with --for (it acts for 0x"),
        (["read", "--as", CITIZEN, "0x" + "ab" * 32], "this needs a department"),
        (["read", "--as", RENSHE, "0x" + "ab" * 32], "grant not found"),
    ]
    for (args, expected), result in zip(cases, vault.cli_many([(args, None) for args, _ in cases]), strict=True):
        assert expected in one_line_error(result), args

    # A second server on the same data directory would share its SQLite file and its anvil.
    assert vault.proc is not None
    message = one_line_error(vault.cli("up", "--port", str(free_port()), timeout=120))
    assert "already running" in message and f"pid {vault.proc.pid}" in message
    assert vault.ok("verify", "--hash", vault.settled()[0]["credential_hash"])["valid"]

    elsewhere = Vault(datadir=tmp_path / "other", log=tmp_path / "other.log", port=vault.port)
    assert "already in use" in one_line_error(elsewhere.cli("up", "--port", str(vault.port), timeout=120))
    assert "no vault is running" in one_line_error(elsewhere.cli("verify", "--hash", "0x" + "ab" * 32))


def test_kill_9_and_restart_keep_every_record_and_anchor(vault: Vault) -> None:
    first = vault.ok(*README_ISSUE)
    before = vault.assert_all_verify()  # waits for the new one too: none may be pending
    assert first["id"] in before

    # The server dies; its anvil (own process group) may live on and is stopped via its pid file.
    old_node = vault.anvil_pid()
    vault.kill_9(with_node=False)
    assert "did not stop cleanly" in one_line_error(vault.cli("records", "--as", CITIZEN))
    vault.start()
    assert old_node not in node_pids(str(vault.datadir))
    assert vault.assert_all_verify() == before

    # Server and node die together just after an anchor: the state file may lack it, and the
    # vault must anchor it again on the next start.
    second = vault.ok(*README_ISSUE)
    vault.settled(CITIZEN)
    vault.kill_9(with_node=True)
    vault.start()
    assert vault.assert_all_verify() == before | {second["id"]}


def test_an_auditor_traces_the_demo_grant_and_the_citizen_verifies_who_read(vault: Vault) -> None:
    def active() -> list[dict[str, Any]]:
        return [
            g
            for g in vault.ok("grants", "--as", RENSHE)
            if g["purpose"] == DEMO_GRANT["purpose"] and g["status"] == "active"
        ]

    (grant,) = poll(active, SETTLE_TIMEOUT, "the demo grant to be anchored", interval=0.5)
    gid = grant["id"]
    assert parsed(vault.cli("read", "--as", RENSHE, gid))["uses"] == grant["uses"] + 1
    renshe = Keystore(vault.datadir / "keystore", MasterKey.load(vault.datadir / "master.key")).address_of(RENSHE)

    def traced() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = vault.ok(
            "audit", "trace", "--as", AUDITOR, "--grant", gid, "--action", "grant.used"
        )
        return entries if len(entries) == grant["uses"] + 1 else None  # every use, this one too

    used = poll(traced, SETTLE_TIMEOUT, "the read to be in the access log", interval=0.5)
    for e in used:
        assert (e["entry"]["actor"], e["entry"]["official"], e["entry"]["grant_id"]) == ("renshe", renshe, gid)
        assert e["entry"]["purpose_code"] == DEMO_GRANT["purpose_code"] and e["entry"]["outcome"] == "ok"
    csv_out, jsonl_out, as_citizen, as_auditor = vault.cli_many(
        [
            (["audit", "trace", "--as", AUDITOR, "--grant", gid, "--format", "csv"], None),
            (["audit", "trace", "--as", AUDITOR, "--grant", gid, "--format", "jsonl"], None),
            (["audit", "trace", "--as", CITIZEN], None),
            (["access-log", "--as", AUDITOR], None),
        ]
    )
    exported = [json.loads(line) for line in jsonl_out.stdout.splitlines()]
    assert [e for e in exported if e["entry"]["action"] == "grant.used"] == used
    rows = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert [(int(r["seq"]), json.loads(r["entry"])) for r in rows] == [(e["seq"], e["entry"]) for e in exported]
    assert "takes an auditor's key" in one_line_error(as_citizen)
    assert "'auditor' is an auditor's key; `access-log` takes a citizen's" in one_line_error(as_auditor)
    for result in (csv_out, jsonl_out):
        assert "张三" not in result.stdout and CITIZEN_ID not in result.stdout

    # The citizen sees the bureau's reads, proved against the head anchored on chain. A head
    # is signed every 30 s: by now one covers the reads of earlier tests; the newest read may
    # be pending until the next.
    def proved() -> tuple[dict[str, Any], str] | None:
        result = vault.cli("access-log", "--as", CITIZEN, "--verify")
        assert result.returncode == 0, (result.returncode, result.stderr)
        log = json.loads(result.stdout)
        reads = [e for e in log["entries"] if e["action"] == "grant.used" and e["grant_id"] == gid]
        return (log, result.stderr) if any(not e["pending"] for e in reads) else None

    log, summary = poll(proved, SETTLE_TIMEOUT + 30, "the reads to be covered by an anchored head", interval=1.0)
    # With a head anchored, the auditor proves the whole log against the chain (exit 0).
    verified = vault.cli("audit", "verify", "--as", AUDITOR)
    assert verified.returncode == 0 and json.loads(verified.stdout)["status"] == "verified", verified.stdout
    assert verified.stderr.startswith("ok: the log is complete and untampered up to the head anchored")
    assert "张三" not in verified.stdout and CITIZEN_ID not in verified.stdout
    reads = [e for e in log["entries"] if e["action"] == "grant.used" and e["grant_id"] == gid]
    assert [e["seq"] for e in reads] == sorted((e["seq"] for e in used), reverse=True)
    assert all(e["department"] == "renshe" and e["official"] == renshe for e in reads)
    assert all(e["proof"]["tx_hash"] and e["seq"] < log["head"]["tree_size"] for e in reads if not e["pending"])
    assert "record.read" not in {e["action"] for e in log["entries"]}  # 张三's own reads are not listed
    count = sum(1 for e in log["entries"] if e["proof"])
    assert summary.startswith(f"verified {count} of {count} entries against tree size {log['head']['tree_size']}")
    assert "张三" not in json.dumps(log, ensure_ascii=False) and CITIZEN_ID not in json.dumps(log)
    heads = vault.cli("audit", "heads", "--as", AUDITOR)
    assert heads.returncode == 0 and "every signature is the log key's" in heads.stderr, heads.stderr
    assert log["head"]["tx_hash"] in {h["tx_hash"] for h in json.loads(heads.stdout)["heads"]}


def test_a_forwarded_for_header_does_not_make_a_new_client(vault: Vault) -> None:
    # Login challenges are bounded per client: a caller that could name itself a new client in
    # X-Forwarded-For would have no bound at all. The real server, as `datavault up` runs it.
    def post(path: str, body: dict[str, str], forwarded: str) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{vault.port}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as refused:
            return json.load(refused)

    address = "0x" + "ab" * 20
    challenges = [post("/auth/challenge", {"address": address}, f"10.9.0.{n}")["challenge"] for n in range(3)]
    with contextlib.closing(sqlite3.connect(vault.datadir / "vault.db")) as db:
        nonces = [line.split(": ", 1)[1] for c in challenges for line in c.splitlines() if line.startswith("nonce: ")]
        marks = ",".join("?" * len(nonces))
        clients = {row[0] for row in db.execute(f"SELECT client FROM challenges WHERE nonce IN ({marks})", nonces)}
    assert clients == {"127.0.0.1"}
    for challenge in challenges:  # a failed attempt spends the challenge: leave no place taken
        assert post("/auth/token", {"challenge": challenge, "signature": "0x" + "00" * 65}, "")["status"] == 401


def test_sigterm_stops_server_and_node_and_cleans_up(vault: Vault) -> None:
    node = vault.anvil_pid()
    assert vault.stop(signal.SIGTERM) == 0, vault.log_tail()
    assert node_pids(str(vault.datadir)) == [], "a process of this vault outlived SIGTERM"
    assert not (vault.datadir / "api.json").exists()
    assert node not in node_pids(str(vault.datadir))
    vault.start()
    assert vault.ok("verify", "--hash", vault.settled()[0]["credential_hash"])["valid"]


def test_ctrl_c_stops_server_and_node(vault: Vault) -> None:
    node = vault.anvil_pid()
    assert node in node_pids(str(vault.datadir))
    assert vault.stop(signal.SIGINT) == 0, vault.log_tail()
    assert node_pids(str(vault.datadir)) == [], "a process of this vault outlived Ctrl-C"
    assert not (vault.datadir / "api.json").exists()
    message = one_line_error(vault.cli("records", "--as", CITIZEN))
    assert "no vault is running" in message and "did not stop cleanly" not in message
