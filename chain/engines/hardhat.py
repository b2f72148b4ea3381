"""Hardhat node (hardhat 2) as a managed child process, for development. Keeps no state.

Started as ``node <hardhat>/internal/cli/cli.js node`` (not through npx, which may reach the
network) with cwd ``hardhat-node/`` and its ``hardhat.config.js``. Hardhat's telemetry and
its per-user files are kept out of the way: no prompt, and its config/data/cache directories
(XDG on Linux) point into the engine's data directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from chain.engines.anvil import HARDHAT_NODE_DIR
from chain.engines.managed import ManagedNodeEngine
from chain.errors import NodeError

HARDHAT_CLI = HARDHAT_NODE_DIR / "node_modules" / "hardhat" / "internal" / "cli" / "cli.js"
HARDHAT_CONFIG = HARDHAT_NODE_DIR / "hardhat.config.js"


def _node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeError("Node.js (`node`) is required for the hardhat engine but is not on PATH")
    if not HARDHAT_CLI.is_file():
        raise NodeError(f"hardhat is not installed ({HARDHAT_CLI} missing); run `npm ci` in hardhat-node/")
    return node


class HardhatEngine(ManagedNodeEngine):
    name = "hardhat"

    def __init__(self, datadir: Path | None = None, *, zero_gas: bool = False, ready_timeout: float = 60.0) -> None:
        super().__init__(datadir, zero_gas=zero_gas, ready_timeout=ready_timeout)

    def _env(self) -> dict[str, str]:
        work = self.datadir / "hardhat"
        env = dict(os.environ)
        env.update(
            {
                "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
                "HARDHAT_HIDE_SOLIDITY_SURVEY_MESSAGE": "true",
                "DATAVAULT_HARDHAT_DIR": str(work),
                "DATAVAULT_ZERO_GAS": "1" if self._zero_gas else "0",
                # Hardhat keeps telemetry consent, an analytics id and compiler downloads in per-user
                # directories; give it private ones so it reads no consent and writes nothing there.
                "XDG_CONFIG_HOME": str(work / "config"),
                "XDG_DATA_HOME": str(work / "data"),
                "XDG_CACHE_HOME": str(work / "cache-home"),
            }
        )
        env.pop("HARDHAT_ENABLE_SENTRY", None)
        return env

    def start(self) -> None:
        if self.is_running:
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        node = _node_binary()

        def argv(port: int) -> list[str]:
            return [
                node,
                str(HARDHAT_CLI),
                "node",
                "--hostname",
                "127.0.0.1",
                "--port",
                str(port),
                "--config",
                str(HARDHAT_CONFIG),
            ]

        self._spawn(argv, cwd=HARDHAT_NODE_DIR, env=self._env())
