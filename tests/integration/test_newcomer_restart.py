"""`make run`, Ctrl-C, `make run` again: the README's own command line, from a working directory.

A newcomer runs `datavault --datadir .datavault up` (what `make run` runs), a relative data
directory, from the project directory. Every other test hands the vault an absolute temporary
path, so a path that means one thing to the vault and another to the chain node it starts
(whose working directory is the data directory) went unnoticed: the node never wrote its state
and the second start refused to run on the reset chain. Here the real console script runs in
a fresh working directory, is stopped with SIGINT (Ctrl-C in its terminal) and started again,
then killed with SIGKILL (its process group and its node's) and started again; each time every
record, grant, delegation and anchor made by the demo must still be there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.demo import GRANT as DEMO_GRANT
from tests.integration.test_cli import START_TIMEOUT, clean_env, datavault, poll

pytestmark = pytest.mark.integration

DATADIR = ".datavault"  # relative, as in the Makefile
CITIZEN, ENTERPRISE, RENSHE, AUDITOR = "citizen-zhang-san", "enterprise-minjiang", "dept-renshe", "auditor"
SETTLE_TIMEOUT = 90.0  # a signed head of the access log is anchored every 30 s


@dataclass
class Newcomer:
    """A terminal whose working directory is ``cwd``, running the README's commands."""

    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def datadir(self) -> Path:
        return self.cwd / DATADIR

    @property
    def log(self) -> Path:
        return self.cwd / f"up-{self.runs}.log"

    def up(self, *extra: str) -> None:
        self.runs += 1
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [*datavault(), "--datadir", DATADIR, "up", "--port", "0", *extra],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=clean_env(),
                cwd=self.cwd,
                start_new_session=True,  # its own process group, as a terminal job
            )
        poll(self._serving, START_TIMEOUT, "`datavault up` to serve", interval=0.2)
        # The hint is the last thing `up` prints (after seeding, with --demo).
        poll(lambda: "Try: datavault" in self.log.read_text(errors="replace") or None, 120, "`up` to finish")

    def _serving(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"`datavault up` exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            info = json.loads((self.datadir / "api.json").read_text())
            if info.get("pid") != self.proc.pid:
                return False
            with urllib.request.urlopen(f"{info['url']}/health", timeout=5) as response:
                return bool(response.status == 200)
        except (OSError, ValueError):
            return False

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        # No --datadir: the README's terminal commands run from the same directory.
        return subprocess.run(
            [*datavault(), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=clean_env(),
            cwd=self.cwd,
        )

    def ok(self, *args: str) -> Any:
        result = self.cli(*args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.returncode, result.stderr)
        return json.loads(result.stdout)

    def anvil_pid(self) -> int:
        return int(json.loads((self.datadir / "anvil.pid").read_text())["pid"])

    def ctrl_c(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)  # what the terminal sends its foreground job
        assert self.proc.wait(timeout=60) == 0, self.tail()

    def kill_9(self) -> None:
        assert self.proc is not None
        anvil = self.anvil_pid()
        os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):  # the node runs in its own group
            os.killpg(anvil, signal.SIGKILL)
        self.proc.wait(timeout=30)


@dataclass(frozen=True)
class Seen:
    records: dict[str, tuple[str, str]]  # id -> (credential hash, anchored root)
    grants: set[str]
    delegations: set[int]
    heads: dict[int, str]  # tree size -> root of each head anchored on chain


def everything(n: Newcomer, *, at_least: Seen | None = None) -> Seen:
    """What the demo made, once it is all anchored (and, after a restart, once ``at_least`` is)."""

    def settled() -> Seen | None:
        records = n.ok("records", "--as", CITIZEN) + n.ok("records", "--as", ENTERPRISE)
        if len(records) < 5 or any(r["status"] != "anchored" for r in records):
            return None
        grants = [g for g in n.ok("grants", "--as", RENSHE) if g["purpose"] == DEMO_GRANT["purpose"]]
        if not grants or any(g["status"] != "active" for g in grants):
            return None
        delegations = [d for d in n.ok("delegations", "--as", ENTERPRISE) if d["status"] == "active"]
        result = n.cli("audit", "heads", "--as", AUDITOR)
        assert result.returncode == 0, result.stderr  # 1: a head recorded as anchored is not on chain
        heads = {h["tree_size"]: h["root"] for h in json.loads(result.stdout)["heads"] if h["on_chain"]}
        seen = Seen(
            records={r["id"]: (r["credential_hash"], r["anchor"]["root"]) for r in records},
            grants={g["id"] for g in grants},
            delegations={d["id"] for d in delegations},
            heads=heads,
        )
        if not delegations or not heads:
            return None
        if at_least is not None and not at_least.heads.keys() <= seen.heads.keys():
            return None
        return seen

    return poll(settled, SETTLE_TIMEOUT, "the demo's records, grant, agent and a log head to be anchored", interval=1.0)


def assert_kept(n: Newcomer, before: Seen) -> Seen:
    after = everything(n, at_least=before)
    assert after.records == before.records  # same credentials under the same anchored roots
    assert after.grants == before.grants and after.delegations == before.delegations
    assert {size: after.heads[size] for size in before.heads} == before.heads
    for record_id, (credential_hash, _root) in before.records.items():
        verdict = n.ok("verify", "--hash", credential_hash)
        assert verdict["valid"], (record_id, verdict["checks"])
    (grant_id,) = before.grants
    disclosed = n.ok("read", "--as", RENSHE, grant_id)
    assert {"姓名": "张三", "准驾车型": "C1"} in [r["fields"] for r in disclosed["records"]]
    verified = n.cli("audit", "verify", "--as", AUDITOR)
    assert verified.returncode == 0, verified.stderr  # the whole log, against the chain
    return after


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[Newcomer]:
    n = Newcomer(cwd=tmp_path / "project")
    n.cwd.mkdir()
    try:
        yield n
    finally:
        if n.proc is not None and n.proc.poll() is None:
            os.killpg(n.proc.pid, signal.SIGKILL)
            n.proc.wait(timeout=30)
        with contextlib.suppress(OSError, ValueError, KeyError, ProcessLookupError):
            os.killpg(n.anvil_pid(), signal.SIGKILL)


def test_the_readme_command_line_keeps_everything_across_ctrl_c_and_kill_9(newcomer: Newcomer) -> None:
    n = newcomer
    n.up("--demo")
    before = everything(n)
    assert not (n.datadir / DATADIR).exists()  # nothing resolved against the node's working directory

    n.ctrl_c()
    assert (n.datadir / "chain-state.json").is_file(), "anvil wrote no state on a clean stop"
    n.up()
    after_ctrl_c = assert_kept(n, before)

    time.sleep(2.5)  # anvil dumps its state every second: let it cover what is anchored now
    n.kill_9()
    n.up()
    assert_kept(n, after_ctrl_c)
    n.ctrl_c()
