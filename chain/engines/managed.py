"""An engine whose node is a child process of ours (anvil, hardhat): started by its binary on
a free loopback port, watched through a pid file in the data directory, stopped by PID."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from chain.connection import RPC_TIMEOUT, connect
from chain.engines.base import Engine
from chain.engines.process import NodeProcess, spawn


class ManagedNodeEngine(Engine):
    def __init__(self, datadir: Path | None = None, *, zero_gas: bool = False, ready_timeout: float = 30.0) -> None:
        super().__init__(zero_gas=zero_gas)
        # Absolute once, here: the node runs with another working directory than ours, so a
        # relative path on its command line would name another place than the one we watch.
        where = Path(datadir) if datadir is not None else Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.datadir = where.absolute()
        self.ready_timeout = ready_timeout
        self._node: NodeProcess | None = None
        self._url: str | None = None

    @property
    def rpc_url(self) -> str | None:
        return self._url

    @property
    def pid(self) -> int | None:
        return self._node.pid if self._node is not None else None

    @property
    def is_running(self) -> bool:
        return self._node is not None and self._node.alive

    def _spawn(self, argv: Callable[[int], list[str]], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        self._node, self._url = spawn(
            self.name,
            argv,
            cwd=cwd,
            env=env if env is not None else dict(os.environ),
            log_path=self.datadir / f"{self.name}.log",
            pid_path=self.datadir / f"{self.name}.pid",
            ready_timeout=self.ready_timeout,
        )
        self._w3 = connect(self._url, RPC_TIMEOUT)

    def stop(self) -> None:
        if self._node is not None:
            self._node.stop()
        self._node, self._url, self._w3 = None, None, None
