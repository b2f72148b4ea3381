"""Helpers for the chain integration tests: is a process gone, a throwaway key."""

from __future__ import annotations

import os
from pathlib import Path


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
