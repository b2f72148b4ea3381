"""Online presentation verifications over HTTP, many counters at once, 1 and 2 workers (issue 12).

Each run starts `datavault up --workers N` on its own PostgreSQL database and an anvil node
reached by URL (bench/http_load.py), seeds it over HTTP (an issuer, a counter with the
verifier role, a citizen with an anchored licence), has the citizen sign enough distinct
presentations (each nonce is spent once), then C counters verify them for T seconds: each
verdict checks the holder's signature and the shown fields, asks the chain (through the local
view: one look at the head, shared) for the holder's key, the anchor and the issuer, spends
the nonce, appends to the access log and commits. Prints verifications/s, p50 and p99 per
worker count, with the load average and the command.

    .venv/bin/python bench/verify_load.py [--workers 1 2] [--clients 32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import http_load

from tests.support import chaos

PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55441")
SHOWN = ["姓名", "准驾车型"]


async def seed(url: str, datadir: Path, count: int) -> tuple[dict[str, str], list[bytes]]:
    """A counter's headers and ``count`` signed presentations of the citizen's licence."""
    outcome = chaos.Outcome()
    issuer, citizen, reader, _ = await chaos.seed(url, datadir, outcome)
    admin = await chaos.admin_of(url, datadir, outcome)
    counter = await chaos.department(admin, "jiaotong", ["verifier"], "交通")
    records = (await citizen.http.get("/me/records", headers=citizen.headers)).json()
    record = records["records"][0]["id"]
    # Retried until the licence's batch is anchored (a presentation needs its proof).
    prepared = await citizen.post("/me/presentations", {"record_id": record, "fields": SHOWN, "ttl": 600})
    now = int(time.time())
    texts = [
        chaos.verify_body(citizen.key, prepared, nonce=secrets.token_bytes(16), created_at=now, expires_at=now + 600)
        for _ in range(count)
    ]
    for api in (issuer, citizen, reader, admin, counter):
        await api.close()
    return counter.headers, texts


def run(workers: int, clients: int, seconds: float, pg: str, per_second: int) -> http_load.Figures:
    with http_load.vault(workers, pg, f"bench_verify_{workers}") as (url, datadir):
        headers, bodies = asyncio.run(seed(url, datadir, int(per_second * seconds) + clients))
        wires = iter(http_load.request(url, "/presentations/verify", headers, b) for b in bodies)
        take: Callable[[], bytes | None] = lambda: next(wires, None)
        latencies, elapsed = asyncio.run(
            http_load.load(url, take, clients, seconds, lambda body: b'"valid":true' in body)
        )
    return http_load.Figures.of(latencies, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--presentations-per-second", type=int, default=600, help="how many to sign beforehand")
    args = parser.parse_args()
    pg = http_load.postgres("start", PG_PORT)
    try:
        rows = [(n, run(n, args.clients, args.seconds, pg, args.presentations_per_second)) for n in args.workers]
    finally:
        http_load.postgres("stop", PG_PORT)
    print(f"{args.clients} counters for {args.seconds:g} s per worker count; load average {http_load.load_average()}\n")
    print("| workers | verifications/s | p50 ms | p99 ms |")
    print("|---:|---:|---:|---:|")
    for n, f in rows:
        print(f"| {n} | {f.rate:.0f} | {f.p50:.1f} | {f.p99:.1f} |")
    again = f"--workers {' '.join(str(n) for n in args.workers)} --clients {args.clients} --seconds {args.seconds:g}"
    print(f"\n    .venv/bin/python bench/verify_load.py {again}")


if __name__ == "__main__":
    main()
