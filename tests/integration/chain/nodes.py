"""Helpers for the chain integration tests: every engine started, is a process gone, a
throwaway key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chain.engines import Engine, make_engine
from chain.engines.anvil import AnvilEngine
from chain.engines.process import free_port

# The engines a conformance suite runs on. "rpc" is a consortium chain in miniature: a
# zero-gas anvil sealing a block a second, reached only through its URL by ``RpcEngine`` with
# a random, unfunded signer key, behind a first node that is down (so every request fails
# over to the second).
ENGINES = ["anvil", "hardhat", "rpc"]


@contextmanager
def started(kind: str, datadir: Path) -> Iterator[Engine]:
    if kind != "rpc":
        with make_engine(kind, datadir=datadir) as node:
            yield node
        return
    # Sealed every second, as a QBFT network seals them: transactions wait for their block.
    with AnvilEngine(datadir, zero_gas=True, block_time=1) as node:
        assert node.rpc_url is not None
        # zero_gas not passed: the engine must see for itself that gas is free.
        down = f"http://127.0.0.1:{free_port()}"
        with make_engine("rpc", rpc_url=f"{down},{node.rpc_url}", signer_key=random_key()) as rpc:
            assert rpc.w3.eth.get_balance(rpc.dev_account().address) == 0 and rpc.zero_gas
            yield rpc


def process_gone(pid: int) -> bool:
    """True once ``pid`` no longer exists (a zombie still counts as present: nobody reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def node_pids(marker: str) -> list[int]:
    """PIDs of live processes whose command line contains ``marker`` (Linux /proc only)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


def random_key() -> str:
    return "0x" + os.urandom(32).hex()
