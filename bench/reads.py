"""Authorised department reads over HTTP, with 1, 2 and 4 workers on PostgreSQL (issue 12).

Each run starts `datavault up --workers N` as an operator would, on its own PostgreSQL
database and an anvil node reached by URL, seeds it over HTTP (two departments, a citizen, a
licence, a grant of up to a million reads), then C clients read through the grant for T
seconds: every read checks the grant, decrypts the granted fields and appends to the access
log. Prints reads/s, p50 and p99 per worker count, with the load average and the command.

    .venv/bin/python bench/reads.py [--workers 1 2 4] [--clients 32] [--seconds 10]

PostgreSQL, the vault process and the load client come from bench/http_load.py; PostgreSQL
on its own port (DATAVAULT_PG_PORT, default here 55439), so the bench runs beside the test
suite's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import http_load

from tests.support import chaos

PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55439")


async def seed(url: str, datadir: Path) -> tuple[dict[str, str], str]:
    """A reader department's headers and a grant it may read through a million times, active."""
    issuer, citizen, reader, grant = await chaos.seed(url, datadir, chaos.Outcome())
    deadline = time.monotonic() + 120
    while (await citizen.http.get(f"/me/grants/{grant}", headers=citizen.headers)).json()["status"] != "active":
        assert time.monotonic() < deadline, "the grant was not activated on chain"
        await asyncio.sleep(0.2)
    for api in (issuer, citizen, reader):
        await api.close()
    return reader.headers, grant


def run(workers: int, clients: int, seconds: float, pg: str) -> http_load.Figures:
    with http_load.vault(workers, pg, f"bench_reads_{workers}") as (url, datadir):
        headers, grant = asyncio.run(seed(url, datadir))
        wire = http_load.request(url, f"/grants/{grant}/read", headers, b"{}")
        latencies, elapsed = asyncio.run(http_load.load(url, lambda: wire, clients, seconds, lambda _: True))
    return http_load.Figures.of(latencies, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    pg = http_load.postgres("start", PG_PORT)
    try:
        rows = [(n, run(n, args.clients, args.seconds, pg)) for n in args.workers]
    finally:
        http_load.postgres("stop", PG_PORT)
    print(f"{args.clients} clients for {args.seconds:g} s per worker count; load average {http_load.load_average()}\n")
    print("| workers | reads/s | p50 ms | p99 ms |")
    print("|---:|---:|---:|---:|")
    for n, f in rows:
        print(f"| {n} | {f.rate:.0f} | {f.p50:.1f} | {f.p99:.1f} |")
    again = f"--workers {' '.join(str(n) for n in args.workers)} --clients {args.clients} --seconds {args.seconds:g}"
    print(f"\n    .venv/bin/python bench/reads.py {again}")


if __name__ == "__main__":
    main()
