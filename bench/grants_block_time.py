"""Grants activated per second on a chain that seals a block every few seconds (issue 12).

A vault on anvil with ``--block-time`` (zero gas, reached by URL as a consortium chain is);
one citizen's N grants, signed beforehand as on the citizens' own devices, are sent by C
clients at once while the submitter runs beside them, as in ``datavault up``; the clock runs
from the first request until the outbox is empty, and every grant is then checked active.
The goal is >= 100/s. Median of the runs; prints a Markdown table with the load average and
the command.

    .venv/bin/python bench/grants_block_time.py [--grants 8] [--block-time 2] [--runs 3] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain.engines.anvil import AnvilEngine
from tests.grant_conformance import grant_body
from tests.support.harness import Actor, Harness, open_harness
from tests.support.outbox import citizen_with_licence
from vault import outbox


async def once(grants: int, block_time: float, clients: int, queued: bool) -> tuple[float, float, float]:
    """(grants accepted per second over HTTP, grants active on chain per second, per block).
    ``queued``: every grant is accepted before the submitter starts, and the clock runs from
    its start: what the chain side alone sustains."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        AnvilEngine(Path(tmp) / "chain", zero_gas=True, block_time=block_time) as node,
    ):
        assert node.rpc_url is not None
        key = "0x" + bytes(node.dev_account().key).hex()
        h = await open_harness(Path(tmp) / "vault", chain="rpc", rpc_url=node.rpc_url, signer_key=key)
        stop = asyncio.Event()
        try:
            citizen, sid = await citizen_with_licence(h)
            w3 = h.vault.ctx.chain.engine.w3
            first_block = int(w3.eth.block_number)
            gate = asyncio.Semaphore(clients)
            # Citizens sign on their own devices: the signatures are made before the clock starts.
            signed = [await signed_grant(h, citizen, sid) for _ in range(grants)]

            async def grant(body: dict[str, Any]) -> str:
                async with gate:
                    r = await h.http.post(f"/subjects/{sid}/grants", json=body, headers=citizen.headers)
                assert r.status_code == 201, r.text
                return str(r.json()["id"])

            if not queued:  # the submitter runs beside the requests, as in ``datavault up``
                submitter = asyncio.create_task(h.vault.submitter.run_forever(stop))
            started = time.perf_counter()
            ids = await asyncio.gather(*(grant(body) for body in signed))
            accepted = time.perf_counter() - started
            if queued:
                started = time.perf_counter()
                submitter = asyncio.create_task(h.vault.submitter.run_forever(stop))
            await drained(h)
            active = time.perf_counter() - started
            stop.set()
            await submitter
            blocks = int(w3.eth.block_number) - first_block
            for g in ids:  # every grant really active, not just out of the queue
                status = (await h.http.get(f"/me/grants/{g}", headers=citizen.headers)).json()["status"]
                assert status == "active", (g, status)
            return grants / accepted, grants / active, grants / max(blocks, 1)
        finally:
            stop.set()
            await h.close()


async def signed_grant(h: Harness, citizen: Actor, sid: str) -> dict[str, Any]:
    r = await h.http.post(f"/subjects/{sid}/grants/prepare", json=grant_body(), headers=citizen.headers)
    assert r.status_code == 200, r.text
    typed = r.json()["typed_data"]
    return {"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)}


async def drained(h: Harness) -> None:
    """Returns once the outbox holds nothing to send (looked at every 20 ms)."""
    while True:
        async with h.vault.ctx.sessions() as session:
            if not await outbox.pending(session, limit=1):
                return
        await asyncio.sleep(0.02)


async def main(grants: int, block_time: float, runs: int, clients: int) -> None:
    both = [await once(grants, block_time, clients, queued=False) for _ in range(runs)]
    chain_side = [await once(grants, block_time, clients, queued=True) for _ in range(runs)]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{grants} grants signed by {clients} clients at once, blocks every {block_time:g} s; "
        f"median of {runs} runs; load average {load}\n"
    )
    print("| measure | grants/s | grants per block |")
    print("|---|---:|---:|")
    print(f"| accepted over HTTP (the submitter running beside) | {statistics.median(f[0] for f in both):.1f} | |")
    for label, figures in (("end to end: first request to all active", both), ("chain side: queued first", chain_side)):
        rate, per_block = statistics.median(f[1] for f in figures), statistics.median(f[2] for f in figures)
        print(f"| {label} | {rate:.1f} | {per_block:.1f} |")
    print(
        f"\n    .venv/bin/python bench/grants_block_time.py --grants {grants} --block-time {block_time:g} "
        f"--runs {runs} --clients {clients}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=8)
    parser.add_argument("--block-time", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.grants, args.block_time, args.runs, args.clients))
