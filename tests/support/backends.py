"""A vault on a real chain node against each database backend, for the integration suites.

One anvil node per test process serves every vault of these suites: each vault deploys its own
contracts on it, reached through the ``rpc`` engine (as a vault reaches a consortium chain), so
a test pays for a deployment, not for a node's start and its first state file. The ``anvil``
engine's own life (start, state file, kill -9, restart) is tested where it matters:
``tests/integration/chain``, ``vault/test_restart.py``, ``vault/test_chain_node_killed.py``
and the CLI and newcomer tests, which run ``datavault up`` itself.
"""

from __future__ import annotations

import atexit
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from eth_utils.hexadecimal import encode_hex

from chain.engines.anvil import AnvilEngine
from tests.support.harness import Harness, open_harness
from tests.support.postgres import fresh_database
from tests.support.scratch import scratch_dir

BACKENDS = ["sqlite", "postgresql"]

_node: AnvilEngine | None = None


def shared_anvil() -> AnvilEngine:
    """This process's anvil node, started on first use (again if it died)."""
    global _node
    if _node is None or not _node.is_running:
        _node = AnvilEngine(scratch_dir("datavault-shared-anvil-"))
        _node.start()
        atexit.register(_node.stop)
    return _node


def stop_shared() -> None:
    """Stops this process's anvil node, if it started one (at the end of the session: an
    xdist worker may leave without running its exit handlers)."""
    global _node
    if _node is not None:
        _node.stop()
        _node = None


@asynccontextmanager
async def harness_on(backend: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """A harness on this process's anvil node, with SQLite in ``tmp_path`` or a fresh
    PostgreSQL database."""
    node = shared_anvil()
    assert node.rpc_url is not None
    chain = {"chain": "rpc", "rpc_url": node.rpc_url, "signer_key": encode_hex(bytes(node.dev_account().key))}
    if backend == "sqlite":
        h = await open_harness(tmp_path, **chain)
        try:
            yield h
        finally:
            await h.close()
        return
    async with fresh_database() as url:
        h = await open_harness(tmp_path, database_url=url, **chain)
        try:
            yield h
        finally:
            await h.close()


@pytest.fixture(name="harness", params=BACKENDS)
async def backend_harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """``harness``: a vault on this process's anvil node, once with each database backend."""
    async with harness_on(request.param, tmp_path) as h:
        yield h
