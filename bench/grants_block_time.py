"""Grants activated per second on a chain that seals a block every few seconds (issue 12).

A vault on anvil with ``--block-time`` (zero gas, reached by URL as a consortium chain is);
one citizen signs N grants at once; the clock runs from the first submission until every
grant is active on chain. Today the submitter sends one transaction and waits for its block,
so this is about one grant per block; the goal is >= 100/s. Median of the runs; prints a
Markdown table with the load average and the command.

    .venv/bin/python bench/grants_block_time.py [--grants 8] [--block-time 2] [--runs 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain.engines.anvil import AnvilEngine
from tests.delegation_conformance import grant_as, subject_id
from tests.grant_conformance import LICENCE_FIELDS
from tests.support.harness import open_harness


async def once(grants: int, block_time: float) -> float:
    with (
        tempfile.TemporaryDirectory() as tmp,
        AnvilEngine(Path(tmp) / "chain", zero_gas=True, block_time=block_time) as node,
    ):
        assert node.rpc_url is not None
        key = "0x" + bytes(node.dev_account().key).hex()
        h = await open_harness(Path(tmp) / "vault", chain="rpc", rpc_url=node.rpc_url, signer_key=key)
        try:
            registrar = await h.department("gongan")
            await h.department("renshe", roles=["data_user"])
            citizen = await h.subject(registrar)
            await h.issue(registrar, fields=LICENCE_FIELDS)
            await h.settle()
            sid = await subject_id(h, citizen)
            started = time.perf_counter()
            ids = []
            for _ in range(grants):
                r = await grant_as(h, citizen, sid, citizen.key)
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            while True:
                await h.vault.submitter.run_once()
                statuses = [
                    (await h.http.get(f"/me/grants/{g}", headers=citizen.headers)).json()["status"] for g in ids
                ]
                if all(s == "active" for s in statuses):
                    return grants / (time.perf_counter() - started)
        finally:
            await h.close()


async def main(grants: int, block_time: float, runs: int) -> None:
    figures = [await once(grants, block_time) for _ in range(runs)]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{grants} grants signed at once, blocks every {block_time:g} s; median of {runs} runs; load average {load}\n"
    )
    print("| measure | grants/s | per block |")
    print("|---|---:|---:|")
    rate = statistics.median(figures)
    print(f"| grants activated on chain | {rate:.2f} | {rate * block_time:.2f} |")
    print(
        f"\n    .venv/bin/python bench/grants_block_time.py --grants {grants} --block-time {block_time:g} --runs {runs}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=8)
    parser.add_argument("--block-time", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.grants, args.block_time, args.runs))
