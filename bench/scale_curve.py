"""The scale curve (issue 12): per-operation cost on indexed paths at 10k, 100k, 1M and 10M records.

Grows ONE PostgreSQL database (scripts/postgres.sh on its own port, DATAVAULT_PG_PORT, default
here 55441) to each size in ``--sizes`` in turn and, at each size, times what a citizen, a
department and the registrar do, through the real API in-process over ASGI (the test harness,
tests/support/harness.py, on the in-process chain), each as the median of ``--repeat`` requests
(after two untimed ones), the operations taking turns:

- ``GET /me/records``: a citizen's record list, first page (default limit);
- ``GET /me/records/{id}``: one of its records by id;
- ``POST /grants/{id}/read``: a department's read through the citizen's grant;
- ``POST /subjects/find``: the registrar finding the citizen by ID number;
- ``GET /me/access-log``: who accessed the citizen's data, first page, with inclusion proofs;
- ``POST /records``: a department issuing one record (a write into the grown indexes).

The rows those operations touch are real, made through the API: two departments, three
citizens with 40 records each, a grant. The bulk of the records are filler rows inserted with
SQL (``INSERT ... SELECT FROM generate_series``, in chunks), shaped like real ones: every column
filled, byte columns as long as a real record's sealed key and body, a unique credential hash,
anchored in filler batches of 1,000 with a 10-hash proof, spread over filler subjects
(``--per-subject`` records each; their rows have a real subject's column lengths). Filler rows
are never decrypted, so they need no real keys. The access log is not filled: it holds the
entries of the real operations only (a filler entry needs its Merkle tree nodes).

Each size's growth is bounded: ``--budget`` minutes of wall time for all the growing; a size
that cannot be reached within it (judged from the rows per second so far) is not started, and
the table says where it stopped. Prints a Markdown table and writes it, with how the data was
made, to bench/SCALE.md, and draws bench/scale_curve.png.

    .venv/bin/python bench/scale_curve.py [--sizes 10000,100000,1000000,10000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The parts, by noun: the real data and timed operations, the filler rows, the figures.
from scale_filler import fill, shapes
from scale_report import OUT_MD, PG_PORT, Step, write
from scale_world import measure, seed

from tests.support.harness import open_harness


def postgres(action: str) -> str:
    env = {**os.environ, "DATAVAULT_PG_PORT": PG_PORT}
    out = subprocess.run([str(ROOT / "scripts/postgres.sh"), action], env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


async def run(
    url: str,
    sizes: list[int],
    repeat: int,
    per_subject: int,
    budget: float,
    min_free: float,
    steps: list[Step],
    done: Callable[[list[Step], str], None],
) -> str:
    """Grows and measures, appending to ``steps`` and calling ``done`` after each size (so
    that what was measured is written even if a later size fails); returns why it stopped early."""
    note = ""
    deadline = time.monotonic() + budget * 60
    with tempfile.TemporaryDirectory(prefix="scale-curve-") as tmp:
        h = await open_harness(Path(tmp), chain="inprocess", database_url=url)
        conn = await asyncpg.connect(url)
        try:
            t0 = time.perf_counter()
            w = await seed(h)
            print(f"  seeded through the API in {time.perf_counter() - t0:.1f} s", flush=True)
            sh = await shapes(conn)
            filler, rate = 0, 0.0
            for size in sizes:
                real = int(await conn.fetchval("SELECT count(*) FROM records")) - filler
                want = max(0, size - real)
                left = deadline - time.monotonic()
                if rate and (want - filler) / rate > left:
                    note = (
                        f"{size:,} records not attempted: at {rate:,.0f} filler rows/s it would take about "
                        f"{(want - filler) / rate / 60:.0f} min to grow there, {left / 60:.0f} min of the "
                        f"{budget:g} min budget were left"
                    )
                    print("  " + note, flush=True)
                    return note
                print(f"  growing to {size:,} records", flush=True)
                t0 = time.perf_counter()
                grown, why = await fill(conn, sh, filler, want, per_subject, deadline, min_free)
                fill_s = time.perf_counter() - t0
                if grown > filler:
                    rate = (grown - filler) / fill_s
                filler = grown
                await conn.execute("VACUUM ANALYZE records")
                await conn.execute("VACUUM ANALYZE subjects")
                await conn.execute("VACUUM ANALYZE anchor_batches")
                build = time.perf_counter() - t0
                total = int(await conn.fetchval("SELECT count(*) FROM records"))
                subjects = int(await conn.fetchval("SELECT count(*) FROM subjects"))
                if grown < want:
                    note = (
                        f"{size:,} records not reached: {why} (of {budget:g} min) at {total:,} records "
                        f"({rate:,.0f} filler rows/s)"
                    )
                    print("  " + note, flush=True)
                    return note
                step = Step(total, subjects, build)
                step.db_bytes = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
                step.ms = await measure(h, w, repeat)
                steps.append(step)
                done(steps, "")
                print(
                    f"  {total:,} records, {subjects:,} subjects, built in {build:.0f} s, "
                    f"database {step.db_bytes / 2**30:.2f} GiB: "
                    + ", ".join(f"{k} {v:.1f} ms" for k, v in step.ms.items()),
                    flush=True,
                )
        finally:
            await conn.close()
            await h.close()
    return note


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000,10000000", help="records, ascending, comma-separated")
    p.add_argument("--repeat", type=int, default=15, help="timed requests per operation and size")
    p.add_argument("--per-subject", type=int, default=10, help="filler records per filler subject")
    p.add_argument("--budget", type=float, default=40, help="minutes of wall time for growing the database")
    p.add_argument("--min-free", type=float, default=4, help="GiB of disk to leave free; growing stops there")
    p.add_argument("--no-write", action="store_true", help=f"print only; leave {OUT_MD.name} and the plot alone")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not sizes or sizes[0] < 1_000:
        p.error("sizes must be at least 1,000")
    started = time.perf_counter()
    url = postgres("start")
    print(f"PostgreSQL on port {PG_PORT}", flush=True)
    try:
        steps: list[Step] = []
        done = lambda so_far, note: write(args, so_far, note, started, show=False)
        note = asyncio.run(run(url, sizes, args.repeat, args.per_subject, args.budget, args.min_free, steps, done))
    finally:
        postgres("stop")
    write(args, steps, note, started, show=True)


if __name__ == "__main__":
    main()
