"""Every `datavault` command in the README's ```sh blocks, run in order against a demo vault.

The README is what a newcomer copies. Here the vault runs as the README says
(`datavault up --demo`, the default data directory in the working directory), and every
fenced `datavault ...` line is run as a real subprocess from that directory, in the order the
README gives them. Placeholders (`<id>`, `<grant id>`, `'DV1:...'`, ...) are filled in from
what earlier commands printed, as a reader would; `> file` redirects stdout. Each command
must exit 0, or 1 where its comment says it exits 1. A new example is picked up by itself;
a new placeholder fails with a message saying where to teach this test its value.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import CITIZEN_ID, START_TIMEOUT, clean_env, datavault, poll

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = re.compile(r"<[^<>\n]+>|'DV1:\.\.\.'")
EXITS_1 = re.compile(r"#.*\bexits? 1\b")
SETTLE_TIMEOUT = 90.0


@dataclass(frozen=True)
class Example:
    line: int  # where it starts in README.md
    text: str  # as written, continuation lines joined
    expected_exit: int


def examples(readme: str) -> list[Example]:
    """The `datavault` commands of every ```sh block, continuation lines joined."""
    found: list[Example] = []
    in_sh, pending, start = False, "", 0
    for number, line in enumerate(readme.splitlines(), start=1):
        if line.strip().startswith("```"):
            in_sh = not in_sh and line.strip() == "```sh"
            continue
        if not in_sh:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text, pending = (pending + line).strip(), ""
        if text.startswith("datavault "):
            found.append(Example(start, text, 1 if EXITS_1.search(text) else 0))
    return found


@dataclass
class Ran:
    argv: list[str]
    output: Any  # stdout as JSON, None if it is not JSON


@dataclass
class Reader:
    """A newcomer at a terminal in ``cwd``, with a demo vault running from ``cwd/.datavault``."""

    cwd: Path
    history: list[Ran] = field(default_factory=list)
    used_records: list[str] = field(default_factory=list)

    def run(self, argv: list[str], stdout: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*datavault(), *argv],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
            env=clean_env(),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
        )
        if stdout is not None:
            stdout.write_text(result.stdout, encoding="utf-8")
        return result

    def json(self, *argv: str) -> Any:
        result = self.run(list(argv))
        assert result.returncode == 0, (argv, result.stderr)
        return json.loads(result.stdout)

    # Where each placeholder's value comes from: what an earlier command printed.

    def last(self, command: str) -> Any:
        for ran in reversed(self.history):
            if ran.argv[0] == command and ran.output is not None:
                return ran.output
        raise AssertionError(f"no earlier `datavault {command}` printed what this example needs")

    def record(self, argv: list[str]) -> str:
        """A record of the --as subject from its earlier `records` list, holding every field the
        command names; one not used by an earlier example if there is one."""
        who = argv[argv.index("--as") + 1]
        listed = next(
            (
                r.output
                for r in reversed(self.history)
                if r.argv[:3] == ["records", "--as", who] and isinstance(r.output, list)
            ),
            None,
        )
        assert listed is not None, f"no earlier `datavault records --as {who}` lists the record"
        named = fields_named(argv)
        candidates = [str(r["id"]) for r in listed if named <= set(r["document"]["fields"])]
        assert candidates, f"no record of {who} holds {sorted(named)}"
        fresh = [c for c in candidates if c not in self.used_records]
        chosen = (fresh or candidates)[0]
        self.used_records.append(chosen)
        self.settle(who)  # e.g. a corrected record: "anchored in seconds"
        return chosen

    def settle(self, who: str) -> None:
        seen: list[str] = []

        def anchored() -> bool:
            seen[:] = [f"{r['document']['title']}: {r['status']}" for r in self.json("records", "--as", who)]
            return not any(s.endswith((": pending", ": revoking")) for s in seen)

        try:
            poll(anchored, SETTLE_TIMEOUT, f"{who}'s records to be anchored", interval=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {seen}") from None

    def value(self, placeholder: str, argv: list[str]) -> str:
        resolvers: dict[str, Callable[[], Any]] = {
            "<id>": lambda: self.record(argv),
            "<record id>": lambda: self.record(argv),
            "<grant id>": lambda: self.last("grant")["id"],
            "<delegation id>": lambda: self.last("delegate")["id"],
            "<correction id>": lambda: self.last("correct")["id"],
            "<subject id>": lambda: self.last("delegations")[0],
            "'DV1:...'": lambda: self.last("present")["text"],
        }
        if placeholder not in resolvers:
            raise AssertionError(
                f"README placeholder {placeholder} is new: teach Reader.value in {__file__} where it comes from"
            )
        return shlex.quote(str(resolvers[placeholder]()))


def fields_named(argv: list[str]) -> set[str]:
    if "--fields" not in argv:
        return set()
    given = argv[argv.index("--fields") + 1]
    if given.startswith("{"):
        return set(json.loads(given))
    return set(given.split(","))


def filled(example: Example, reader: Reader) -> tuple[list[str], Path | None]:
    """The example's argv (after `datavault`) with its placeholders filled in, and its `> file`."""
    # Placeholders are resolved against the command as written (for --as and --fields).
    written = shlex.split(PLACEHOLDER.sub("PLACEHOLDER", example.text), comments=True)[1:]
    text = PLACEHOLDER.sub(lambda m: reader.value(m.group(0), written), example.text)
    argv = shlex.split(text, comments=True)[1:]
    if ">" in argv:
        at = argv.index(">")
        assert len(argv) == at + 2, f"README.md:{example.line}: one `> file` at the end, please"
        return argv[:at], reader.cwd / argv[at + 1]
    return argv, None


def readme_inputs(cwd: Path) -> None:
    """Files the README's commands read that the README describes but does not show."""
    rows = [
        ["kind", "identifier", "type", "title", "valid_until", "编号"],  # the columns the README names
        ["citizen", CITIZEN_ID, "certificate", "无犯罪记录证明", "2027-12-31", "NCR-1"],
        ["enterprise", "91350100M000100Y43", "licence", "营业执照", "2027-12-31", "BL-1"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    (cwd / "credentials.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (cwd / "password.txt").write_text("correct horse battery staple\n", encoding="utf-8")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Reader]:
    cwd = tmp_path / "terminal"
    cwd.mkdir()
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*datavault(), "up", "--port", "0", "--demo"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=clean_env(),
            cwd=cwd,
            start_new_session=True,
        )
    anvil_pid = cwd / ".datavault" / "anvil.pid"
    try:

        def seeded() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")
            return "Try: datavault" in log.read_text(errors="replace")

        poll(seeded, START_TIMEOUT, "the demo vault to be up and seeded", interval=0.5)
        assert "demo seeding failed" not in log.read_text(errors="replace"), log.read_text(errors="replace")
        reader = Reader(cwd)
        for who in ("citizen-zhang-san", "enterprise-minjiang"):
            reader.settle(who)  # "With `make run ARGS=--demo` running": the demo is anchored
        readme_inputs(cwd)
        yield reader
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        with contextlib.suppress(OSError, ValueError, KeyError, ProcessLookupError):
            os.killpg(int(json.loads(anvil_pid.read_text())["pid"]), signal.SIGKILL)


def test_the_readme_examples_do_what_the_readme_says(demo: Reader) -> None:
    found = examples(README.read_text(encoding="utf-8"))
    assert len(found) >= 25, [e.text for e in found]  # the parser still sees the README's blocks
    ran = []
    for example in found:
        argv, stdout = filled(example, demo)
        result = demo.run(argv, stdout)
        assert "Traceback" not in result.stderr, (example.text, result.stderr)
        assert result.returncode == example.expected_exit, (
            f"README.md:{example.line}: `{example.text}` exited {result.returncode}, "
            f"not {example.expected_exit}:\n{result.stderr}"
        )
        try:
            output = json.loads(result.stdout)
        except ValueError:
            output = None
        demo.history.append(Ran(argv, output))
        ran.append(argv[0] if argv[0] != "audit" else " ".join(argv[:2]))
    print("README examples run:", ", ".join(ran))
