"""CPU seconds spent by the processes of an HTTP bench (the vault's, its PostgreSQL's, the
node's and the load client's), read from /proc, so a figure can say what one operation cost
each of them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PARTS = ("vault", "postgres", "anvil", "client")
TICK = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, str, float]]:
    """Every process: its parent, command line and CPU seconds so far (from /proc)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = (int(stat[1]), command, (int(stat[11]) + int(stat[12])) / TICK)
    return found


def cpu_seconds(pg_port: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each of the vault's processes, the PostgreSQL on ``pg_port``'s,
    the node's and this one, by process id (a process that exits takes its figure with it)."""
    procs = processes()

    def tree(root: int) -> set[int]:
        pids, grew = {root}, True
        while grew:
            more = {pid for pid, (parent, _, _) in procs.items() if parent in pids} - pids
            pids, grew = pids | more, bool(more)
        return pids

    mine = tree(os.getpid()) - {os.getpid()}
    postmaster = [pid for pid, (_, cmd, _) in procs.items() if "postgres" in cmd and f"-p {pg_port}" in cmd]
    parts = {
        "vault": {pid for pid in mine if "api.cli" in procs[pid][1] or "multiprocessing" in procs[pid][1]},
        "postgres": tree(postmaster[0]) if postmaster else set(),
        "anvil": {pid for pid in mine if "anvil" in procs[pid][1]},
    }
    spent = {part: {pid: procs[pid][2] for pid in pids} for part, pids in parts.items()}
    spent["client"] = {os.getpid(): time.process_time()}
    return spent


def cpu_between(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each part spent between two looks, over the processes alive at the second."""
    return {part: sum(t - before[part].get(pid, 0.0) for pid, t in after[part].items()) for part in PARTS}
