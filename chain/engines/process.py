"""Node child processes: started by their binary, watched through a pid file, stopped by PID.

Each node runs in its own process group so that stopping it also stops anything it spawned.
A pid file in the data directory lets the next start find a node left behind by a crashed
run (it would otherwise keep writing the same state file); an ``atexit`` hook stops every
node this process started, so tests and short-lived commands leave no orphans.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from chain.errors import NodeError

log = logging.getLogger(__name__)
POSIX = os.name == "posix"
_live: set[NodeProcess] = set()
_live_lock = threading.Lock()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def _cmdline(pid: int) -> str | None:
    """The command line of a live process, None if there is none (zombies count as gone)."""
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return None
            return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            return None
    if not POSIX:
        return None
    try:  # no /proc (macOS): ask ps
        out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def _signal(pid: int, sig: int, group: bool) -> None:
    try:
        if group and POSIX:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_stale(pid_path: Path, timeout: float = 10.0) -> None:
    """Stops a node recorded in ``pid_path`` by an earlier run if it still runs; removes the file."""
    try:
        record = json.loads(pid_path.read_text())
        pid, recorded = int(record["pid"]), str(record["cmdline"])
    except (OSError, ValueError, KeyError, TypeError):
        pid_path.unlink(missing_ok=True)
        return
    # A node whose owner still runs is in use, not left behind: stopping it would pull the
    # chain from under a live vault. The owner's command line guards against pid reuse.
    owner, owner_cmdline = record.get("owner"), record.get("owner_cmdline")
    owner_alive = (
        isinstance(owner, int) and owner != os.getpid() and bool(owner_cmdline) and _cmdline(owner) == owner_cmdline
    )
    if owner_alive and _cmdline(pid) == recorded:
        raise NodeError(
            f"the node recorded in {pid_path} (pid {pid}) belongs to a running process (pid {owner}); "
            "stop that vault first, or use another data directory"
        )
    # Only a process with the very command line we started: the pid may have been reused.
    if _cmdline(pid) == recorded:
        log.warning("stopping node left running by an earlier run (pid %s)", pid)
        _signal(pid, signal.SIGTERM, group=True)
        deadline = time.monotonic() + timeout
        while _cmdline(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _cmdline(pid) is not None:
            _signal(pid, signal.SIGKILL, group=True)
            while _cmdline(pid) is not None and time.monotonic() < deadline + 5:
                time.sleep(0.05)
    pid_path.unlink(missing_ok=True)


class NodeProcess:
    """One started node: its ``Popen``, pid file and log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        log_path: Path,
        pid_path: Path,
    ) -> None:
        self.name, self.argv, self.cwd, self.env = name, list(argv), cwd, env
        self.log_path, self.pid_path = log_path, pid_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, url: str, ready_timeout: float) -> None:
        with open(self.log_path, "ab") as logfile:
            logfile.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(self.argv)}\n".encode())
            logfile.flush()
            self._proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=POSIX,
                creationflags=0 if POSIX else getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
            )
        with _live_lock:
            _live.add(self)
        recorded = _cmdline(self._proc.pid) or " ".join(self.argv)
        owner = {"owner": os.getpid(), "owner_cmdline": _cmdline(os.getpid())}
        self.pid_path.write_text(json.dumps({"pid": self._proc.pid, "cmdline": recorded, **owner}))
        deadline = time.monotonic() + ready_timeout
        while not rpc_answers(url):
            if self._proc.poll() is not None:
                self._forget()
                raise NodeError(
                    f"the {self.name} node exited with code {self._proc.returncode} before answering; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(
                    f"the {self.name} node did not answer at {url} within {ready_timeout:.0f}s; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal(proc.pid, signal.SIGTERM, group=True)  # lets anvil write its state file
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s node (pid %s) ignored SIGTERM; killing it", self.name, proc.pid)
                _signal(proc.pid, signal.SIGKILL, group=True)
                proc.wait(5)
        # Anything it spawned and left behind. The group id is the node's pid, reaped a moment
        # ago: reuse of that number as a new session's group within this instant is not a risk.
        _signal(proc.pid, signal.SIGKILL, group=True)
        self._forget()

    def _forget(self) -> None:
        with _live_lock:
            _live.discard(self)
        self.pid_path.unlink(missing_ok=True)


def spawn(
    name: str,
    make_argv: Callable[[int], list[str]],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    pid_path: Path,
    ready_timeout: float,
    attempts: int = 3,
) -> tuple[NodeProcess, str]:
    """Starts a node on a free port, retrying if another process grabbed the port first."""
    stop_stale(pid_path)
    for attempt in range(attempts):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        node = NodeProcess(name, make_argv(port), cwd=cwd, env=env, log_path=log_path, pid_path=pid_path)
        try:
            node.start(url, ready_timeout)
            return node, url
        except NodeError:
            in_use = "in use" in log_tail(log_path, 5).lower()
            if not in_use or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@atexit.register
def stop_all() -> None:
    """Safety net: stop every node this process started and did not stop."""
    with _live_lock:
        nodes = list(_live)
    for node in nodes:
        try:
            node.stop(timeout=5)
        except Exception:  # at exit, keep stopping the others
            log.exception("could not stop %s node", node.name)
