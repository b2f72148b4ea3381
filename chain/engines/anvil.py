"""anvil as a managed child process with its state in the data directory.

anvil rewrites ``chain-state.json`` every ``--state-interval`` seconds and on a clean exit, so
the chain survives restarts and, but for the last interval, ``kill -9``. The file is rewritten
in place; a kill during a write would leave it truncated, so each start keeps the previous
good file as ``chain-state.json.bak`` and falls back to it (the vault's reconcile re-queues
whatever anchors the older state lacks, and verify_deployment catches a lost deployment).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from pathlib import Path

from chain.engines.managed import ManagedNodeEngine
from chain.errors import NodeError

log = logging.getLogger(__name__)
HARDHAT_NODE_DIR = Path(__file__).resolve().parents[2] / "hardhat-node"
STATE_FILE = "chain-state.json"
STATE_INTERVAL = 1  # seconds; what a kill -9 may lose
# Past blocks' states anvil keeps, in memory only. By default it writes older ones under the
# user's home directory and removes them only on a clean exit: every killed node left up to
# gigabytes behind, outside the data directory. The vault reads state at the head and replays
# a failed transaction one block back, nothing older.
KEPT_STATES = 64
# An operator may point at another anvil build; the vault's settings read it and pass it down.
BINARY_ENV = "DATAVAULT_ANVIL"


def anvil_binary(override: Path | None = None) -> Path:
    """``override`` if given, else the native anvil binary npm installed for this platform."""
    if override is not None:
        return Path(override)
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(
        platform.system(), platform.system().lower()
    )
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    exe = "anvil.exe" if system == "win32" else "anvil"
    path = HARDHAT_NODE_DIR / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / exe
    if not path.is_file():
        raise NodeError(
            f"anvil binary for {system}-{arch} not found at {path}; run `npm ci` in hardhat-node/ "
            f"(or set {BINARY_ENV} to an anvil binary)"
        )
    return path


def _valid_json(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            json.load(f)
        return True
    except (OSError, ValueError):
        return False


def _saved_block(path: Path) -> int:
    """The newest block in anvil's state file; -1 while it is missing or half-written."""
    try:
        with open(path, "rb") as f:
            number = json.load(f).get("best_block_number", -1)
        return int(number, 16) if isinstance(number, str) else int(number)
    except (OSError, ValueError, TypeError, AttributeError):
        return -1


class AnvilEngine(ManagedNodeEngine):
    name = "anvil"

    def __init__(
        self,
        datadir: Path | None = None,
        *,
        zero_gas: bool = False,
        binary: Path | None = None,
        ready_timeout: float = 30.0,
        block_time: float | None = None,
    ) -> None:
        super().__init__(datadir, zero_gas=zero_gas, ready_timeout=ready_timeout)
        self.binary = binary
        # Seconds between blocks, as a consortium chain seals them (QBFT: 1-5 s); None mines
        # each transaction at once.
        self.block_time = block_time

    @property
    def state_path(self) -> Path:
        return self.datadir / STATE_FILE

    def command(self, port: int) -> list[str]:
        """The command line that runs this node on ``port``, its state in the data directory."""
        argv = [
            str(anvil_binary(self.binary)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--hardfork",
            "prague",
            "--state",
            str(self.state_path),
            "--state-interval",
            str(STATE_INTERVAL),
            "--prune-history",
            str(KEPT_STATES),
        ]
        if self._zero_gas:
            argv += ["--gas-price", "0", "--base-fee", "0"]
        if self.block_time is not None:
            argv += ["--block-time", f"{self.block_time:g}"]
        return argv

    def _check_state_file(self) -> None:
        state, backup = self.state_path, self.state_path.with_name(STATE_FILE + ".bak")
        if not state.exists():
            return
        if _valid_json(state):
            tmp = backup.with_name(backup.name + ".tmp")
            shutil.copy2(state, tmp)
            os.replace(tmp, backup)  # atomic: the backup itself is never half-written
        elif _valid_json(backup):
            log.warning("anvil state file %s is damaged (killed while writing?); using %s", state, backup)
            shutil.copy2(backup, state)
        else:
            raise NodeError(f"anvil state file {state} is damaged and there is no usable backup")

    def start(self) -> None:
        if self.is_running:
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._check_state_file()
        anvil_binary(self.binary)  # fail with the npm hint before touching any process
        self._spawn(self.command, cwd=self.datadir)

    def wait_persisted(self, timeout: float = 10 * STATE_INTERVAL) -> None:
        """Returns once anvil has written a state file that includes everything mined so far.

        The state file is read each time anvil rewrites it (once an interval), until the
        block it holds is the head: on average half an interval, rather than a fixed wait.
        """
        if not self.is_running:
            return
        head = int(self.w3.eth.block_number)
        deadline = time.monotonic() + timeout
        seen: int | None = None
        while time.monotonic() < deadline:
            try:
                mtime = self.state_path.stat().st_mtime_ns
            except FileNotFoundError:
                mtime = None
            if mtime is not None and mtime != seen:
                seen = mtime
                if _saved_block(self.state_path) >= head:
                    return
            time.sleep(0.02)
        log.warning("anvil has not saved block %s to %s within %.0f s", head, self.state_path, timeout)
