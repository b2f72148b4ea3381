"""Issue -> anchored -> verified flows per second over HTTP, C issuers at once (issue 12).

Each worker count starts `datavault up --workers N` on its own PostgreSQL database and an anvil
node reached by URL (bench/http_load.py), and seeds it over HTTP (tests/support/chaos.py): an
issuing department, a counter (a department with the verifier role) and one citizen per
issuer, each with a key bound on chain. Then C issuers each run flows one after another, for a
warm-up and a fixed window:

1. issue: the issuer sends a licence for its citizen, `POST /records` (single) or K of them in
   one `POST /records/bulk` (bulk);
2. anchored: one watcher for all issuers asks `POST /records/status`, every ``--poll`` seconds,
   about the first record of each request still pending (the submitter batches what is pending
   each round into one Merkle root and one transaction per issuer, and never splits a request);
3. verified, by one of two paths (``--verify``):
   - document: the citizen fetches the credential with its proof, `GET /me/records/{id}`, and
     the counter sends both to `POST /verify`;
   - presentation: the citizen prepares a presentation of two fields, `POST /me/presentations`,
     signs it here (as bench/verify_load.py does), and the counter sends it to
     `POST /presentations/verify`.

A flow ends at a verdict that says valid. Flows/s counts the flows that ended inside the window
(for bulk, each credential is a flow, timed from its request); p50 and p99 are their times from
the issuing request to the valid verdict; the stage columns are medians. CPU per flow is what
the vault's processes, this PostgreSQL, the node and the load client (the light one of
bench/http_load.py) spent over the window, from /proc, divided by the flows counted.

    .venv/bin/python bench/flows.py [--workers 1 2] [--clients 8 32] [--issuance single bulk]
        [--verify document presentation] [--bulk 16] [--runs 3] [--seconds 10] [--warm 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field

import http_load
from flows_breakdown import breakdown
from flows_world import SHOWN, Anchors, Citizen, World, licence, seed
from process_cpu import PARTS, cpu_between, cpu_seconds

from tests.support import chaos

PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55452")
STAGES = ("issue", "anchor", "fetch", "verify")


@dataclass
class Flow:
    started: float
    ended: float
    stages: dict[str, float]  # seconds per stage


@dataclass
class Run:
    rate: float  # flows/s in the window
    p50: float  # ms
    p99: float  # ms
    stages: dict[str, float]  # median ms per stage
    cpu: dict[str, float]  # CPU ms per flow in the window: the vault, PostgreSQL, anvil, this client
    load: str


@dataclass
class Row:
    workers: int
    clients: int
    issuance: str
    verify: str
    runs: list[Run] = field(default_factory=list)

    def median(self, pick: str) -> float:
        return float(statistics.median(getattr(r, pick) for r in self.runs))


async def flows(world: World, clients: int, bulk: int, verify: str, warm: float, seconds: float, poll: float) -> Run:
    url = world.url
    watcher = Anchors(await http_load.Connection.open(url), world.issuer, poll)
    watching = asyncio.create_task(watcher.watch())
    done: list[Flow] = []
    start = time.monotonic()
    window = (start + warm, start + warm + seconds)

    async def verified(citizen: Citizen, own: http_load.Connection, counter: http_load.Connection, rid: str) -> float:
        """The citizen's part, then the counter's verdict; when the citizen's part ended."""
        if verify == "document":
            status, answer = await own.call("GET", f"/me/records/{rid}", citizen.headers)
            assert status == 200, (status, answer[:300])
            record = json.loads(answer)
            body = json.dumps({"document": record["document"], "proof": record["anchor"]["proof"]}).encode()
            path = "/verify"
        else:
            ask = json.dumps({"record_id": rid, "fields": SHOWN, "ttl": 600}).encode()
            status, answer = await own.call("POST", "/me/presentations", citizen.headers, ask)
            assert status == 200, (status, answer[:300])
            body = chaos.verify_body(citizen.key, json.loads(answer))
            path = "/presentations/verify"
        fetched = time.perf_counter()
        status, answer = await counter.call("POST", path, world.counter, body)
        assert status == 200 and b'"valid":true' in answer, (status, answer[:300])
        return fetched

    async def client(citizen: Citizen) -> None:
        issuer, own, counter = [await http_load.Connection.open(url) for _ in range(3)]
        n = 0
        try:
            while time.monotonic() < window[1]:
                started = time.perf_counter()
                if bulk == 1:
                    n += 1
                    body = json.dumps(licence(citizen.identifier, n)).encode()
                    status, answer = await issuer.call("POST", "/records", world.issuer, body)
                    assert status == 201, (status, answer[:300])
                    ids = [json.loads(answer)["id"]]
                else:
                    items = [licence(citizen.identifier, n + k) for k in range(bulk)]
                    n += bulk
                    body = json.dumps({"items": items}).encode()
                    status, answer = await issuer.call("POST", "/records/bulk", world.issuer, body)
                    assert status == 201, (status, answer[:300])
                    ids = [r["id"] for r in json.loads(answer)["records"]]
                issued = time.perf_counter()
                # A request's records are anchored together (one root, one transaction): the
                # watcher asks about its first.
                await asyncio.gather(*watcher.wait(ids[:1]))
                anchored = time.perf_counter()
                for rid in ids:
                    before = time.perf_counter()
                    fetched = await verified(citizen, own, counter, rid)
                    ended = time.perf_counter()
                    stages = {
                        "issue": issued - started,
                        "anchor": anchored - issued,
                        "fetch": fetched - before,
                        "verify": ended - fetched,
                    }
                    done.append(Flow(started, ended, stages))
        finally:
            for c in (issuer, own, counter):
                c.close()

    cpu: list[dict[str, dict[int, float]]] = []

    async def meter() -> None:
        await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
        cpu.append(cpu_seconds(PG_PORT))
        await asyncio.sleep(max(0.0, window[1] - time.monotonic()))
        cpu.append(cpu_seconds(PG_PORT))

    try:
        await asyncio.wait_for(
            asyncio.gather(meter(), *(client(world.citizens[i]) for i in range(clients))), warm + seconds + 120
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        watcher.connection.close()
    # perf_counter and monotonic share no origin: the window in perf_counter's terms.
    offset = time.perf_counter() - time.monotonic()
    lo, hi = window[0] + offset, window[1] + offset
    counted = [f for f in done if lo <= f.ended < hi]
    assert counted, "no flow ended inside the window"
    figures = http_load.Figures.of([f.ended - f.started for f in counted], seconds)
    stages = {s: statistics.median(f.stages[s] for f in counted) * 1000 for s in STAGES}
    per_flow = {part: t * 1000 / len(counted) for part, t in cpu_between(cpu[0], cpu[1]).items()}
    return Run(figures.rate, figures.p50, figures.p99, stages, per_flow, http_load.load_average())


def measure(args: argparse.Namespace, pg: str, workers: int) -> list[Row]:
    rows = []
    with http_load.vault(workers, pg, f"bench_flows_{workers}") as (url, datadir):
        world = asyncio.run(seed(url, datadir, max(args.clients)))
        if args.breakdown:
            print(f"\n{args.breakdown} of each step one at a time, {workers} worker(s):\n")
            print("| step | wall ms | CPU ms: vault | PostgreSQL | anvil | client |")
            print("|---|---:|---:|---:|---:|---:|")
            for what, wall, spent in asyncio.run(breakdown(world, args.breakdown, args.poll, PG_PORT)):
                print(f"| {what} | {wall:.1f} | " + " | ".join(f"{spent[p]:.1f}" for p in PARTS) + " |")
            print(f"\nload average {http_load.load_average()}\n", flush=True)
        for issuance in args.issuance:
            for verify in args.verify:
                for clients in args.clients:
                    row = Row(workers, clients, issuance, verify)
                    bulk = args.bulk if issuance == "bulk" else 1
                    for _ in range(args.runs):
                        run = asyncio.run(flows(world, clients, bulk, verify, args.warm, args.seconds, args.poll))
                        row.runs.append(run)
                        cpu = ", ".join(f"{p} {run.cpu[p]:.1f}" for p in PARTS)
                        print(
                            f"  {workers} worker(s), {clients} issuers, {issuance}, {verify}: {run.rate:.1f} flows/s,"
                            f" p50 {run.p50:.0f} ms, p99 {run.p99:.0f} ms; CPU ms/flow {cpu}; load {run.load}",
                            flush=True,
                        )
                    rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32], help="concurrent issuers")
    parser.add_argument("--issuance", nargs="+", choices=["single", "bulk"], default=["single", "bulk"])
    parser.add_argument("--verify", nargs="+", choices=["document", "presentation"], default=["document"])
    parser.add_argument("--bulk", type=int, default=16, help="credentials per bulk request")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="the window counted")
    parser.add_argument("--warm", type=float, default=3.0, help="seconds of flows before the window")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between the watcher's status asks")
    parser.add_argument("--breakdown", type=int, default=0, help="first time each step this many times, one at a time")
    args = parser.parse_args()
    pg = http_load.postgres("start", PG_PORT)
    try:
        rows = [row for n in args.workers for row in measure(args, pg, n)]
    finally:
        http_load.postgres("stop", PG_PORT)
    print(
        f"\nmedian of {args.runs} runs; window {args.seconds:g} s after {args.warm:g} s of warm-up; "
        f"bulk: {args.bulk} per request; status asked every {args.poll:g} s\n"
    )
    print(
        "| workers | issuers | issuance | verified by | flows/s | p50 ms | p99 ms "
        "| issue ms | anchor wait ms | citizen ms | verdict ms "
        "| CPU ms/flow: vault | PostgreSQL | anvil | client | load average (last run) |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        stages = " | ".join(f"{statistics.median(run.stages[s] for run in r.runs):.0f}" for s in STAGES)
        cpu = " | ".join(f"{statistics.median(run.cpu[p] for run in r.runs):.1f}" for p in PARTS)
        print(
            f"| {r.workers} | {r.clients} | {r.issuance} | {r.verify} | {r.median('rate'):.1f} "
            f"| {r.median('p50'):.0f} | {r.median('p99'):.0f} | {stages} | {cpu} | {r.runs[-1].load} |"
        )
    again = [
        f"--workers {' '.join(map(str, args.workers))}",
        f"--clients {' '.join(map(str, args.clients))}",
        f"--issuance {' '.join(args.issuance)}",
        f"--verify {' '.join(args.verify)}",
        f"--bulk {args.bulk} --runs {args.runs} --seconds {args.seconds:g} --warm {args.warm:g} --poll {args.poll:g}",
    ] + ([f"--breakdown {args.breakdown}"] if args.breakdown else [])
    print(f"\n    .venv/bin/python bench/flows.py {' '.join(again)}")


if __name__ == "__main__":
    main()
