"""One authorised department read in process: its CPU cost, without sockets, workers or
PostgreSQL (issue 12). The vault runs on SQLite and the in-process chain, the API over ASGI
(the tests' harness); a department reads a citizen's licence through a grant, as
``bench/reads.py`` does over HTTP. Prints the median ms per read of ``--rounds`` rounds of
``--reads`` reads, one at a time, in wall-clock and in CPU time; ``--profile`` adds the
functions that took the most time (cProfile, cumulative and own).

    .venv/bin/python bench/read_inprocess.py [--rounds 5] [--reads 100] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import grant_conformance as gc
from tests.support.harness import open_harness


async def measure(rounds: int, reads: int, profile: bool) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp))
        try:
            _, reader, citizen, _ = await gc.setup(h)
            grant = (await gc.granted(h, citizen, max_uses=1_000_000))["id"]
            path, headers = f"/grants/{grant}/read", reader.headers

            async def once() -> None:
                r = await h.http.post(path, json={}, headers=headers)
                assert r.status_code == 200, r.text

            for _ in range(20):  # warm the code paths and statement caches
                await once()
            per_read, cpu_per_read = [], []
            profiler = cProfile.Profile() if profile else None
            for _ in range(rounds):
                if profiler is not None:
                    profiler.enable()
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(reads):
                    await once()
                per_read.append((time.perf_counter() - started) / reads * 1000)
                cpu_per_read.append((time.process_time() - cpu) / reads * 1000)
                if profiler is not None:
                    profiler.disable()
                # The sequencer drains the queued log entries between rounds, as the submitter would.
                await h.vault.sequencer.run_once(int(time.time()))
            if profiler is not None:
                stats = pstats.Stats(profiler).strip_dirs()
                stats.sort_stats("cumulative").print_stats(45)
                stats.sort_stats("tottime").print_stats(30)
            return per_read, cpu_per_read
        finally:
            await h.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    per_read, cpu_per_read = asyncio.run(measure(args.rounds, args.reads, args.profile))
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rounds = " ".join(f"{ms:.2f}" for ms in per_read)
    print(f"one read in process (SQLite): median {statistics.median(per_read):.2f} ms; rounds {rounds}")
    # CPU time of the whole process (the SQLite driver's thread too): what the load around us
    # changes least.
    cpu = statistics.median(cpu_per_read)
    print(f"CPU per read: median {cpu:.2f} ms; rounds {' '.join(f'{ms:.2f}' for ms in cpu_per_read)}")
    print(f"load average {load_avg}")
    print(f"\n    .venv/bin/python bench/read_inprocess.py --rounds {args.rounds} --reads {args.reads}")


if __name__ == "__main__":
    main()
