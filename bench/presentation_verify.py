"""How long a counter waits for a verdict: presentations verified online and offline.

Runs the vault as the tests do (tests/support/harness.py: the API in-process over ASGI) on
anvil by default, issues a licence, and times, each as the median of several rounds:
- online, through the API (POST /presentations/verify: three chain calls, the nonce table,
  the access-log entry, one commit), from the text and from a PNG of the QR code;
- offline, the library function alone (vault.presentations.verify.verify_offline) against a
  status snapshot: two signature recoveries and some hashing, no I/O.
Prints a Markdown table and writes it to bench/VERIFY.md.

    .venv/bin/python bench/presentation_verify.py [--chain anvil|inprocess] [--rounds 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.presentation_conformance import LICENCE, present
from tests.support.harness import open_harness
from vault import clock
from vault.presentations import qr, status_snapshot
from vault.presentations.verify import verify_offline


async def run(chain: str, rounds: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp), chain=chain)
        try:
            issuer = await h.department("gongan")
            counter = await h.department("jiaotong", roles=["verifier"])
            citizen = await h.subject(issuer)
            record = await h.issue(issuer, fields=LICENCE)
            await h.settle()
            texts = [await present(h, citizen, record["id"], ["姓名", "准驾车型"]) for _ in range(rounds)]
            pngs = [qr.png(t) for t in texts[: max(5, rounds // 5)]]
            online: list[float] = []
            for text in texts:
                started = time.perf_counter()
                r = await h.http.post("/presentations/verify", json={"text": text}, headers=counter.headers)
                online.append(time.perf_counter() - started)
                assert r.json()["valid"], r.text
            image: list[float] = []
            # Fresh presentations: the ones above are spent.
            for png in [qr.png(await present(h, citizen, record["id"], ["姓名"])) for _ in pngs]:
                started = time.perf_counter()
                r = await h.http.post(
                    "/presentations/verify/image", content=png, headers={**counter.headers, "Content-Type": "image/png"}
                )
                image.append(time.perf_counter() - started)
                assert r.json()["valid"], r.text
            snap = status_snapshot.decode((await h.http.get("/status/snapshot")).text)
            offline: list[float] = []
            for text in texts:
                started = time.perf_counter()
                verdict = await verify_offline(snap, text, now=clock.now())
                offline.append(time.perf_counter() - started)
                assert verdict.valid, verdict.failed()
        finally:
            await h.close()
    return [
        ("online, text (API)", statistics.median(online)),
        ("online, PNG of the QR code (API)", statistics.median(image)),
        ("offline, text (library)", statistics.median(offline)),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--chain", default="anvil", choices=["anvil", "inprocess"])
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--runs", type=int, default=3, help="whole runs; the table shows the median of their medians")
    p.add_argument("--no-write", action="store_true", help="print only; do not rewrite bench/VERIFY.md")
    args = p.parse_args()
    runs = [asyncio.run(run(args.chain, args.rounds)) for _ in range(args.runs)]
    lines = [
        "# Verifying a presentation",
        "",
        (
            f"`python bench/presentation_verify.py --chain {args.chain} --rounds {args.rounds} --runs {args.runs}`: "
            f"{args.rounds} presentations of a 机动车驾驶证 showing 2 fields, one at a time; median of each run, "
            "then the "
            f"median of {args.runs} runs ({platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})."
        ),
        (
            "Online goes through the API in-process (no socket): the holder's key, the anchor and the issuer from "
            "the local chain view (one look at the node's head; three calls to the node before issue 12's view, "
            "16.4 ms), the nonce, the access-log entry and a commit. Offline is the library function alone: two "
            "signature recoveries (libsecp256k1 through coincurve) and hashing. Many counters at once over HTTP: "
            "`bench/verify_load.py` (`bench/VERIFY_LOAD.md`)."
        ),
        "",
        "| verification | median ms | per second, one at a time |",
        "| --- | ---: | ---: |",
    ]
    for i, (name, _) in enumerate(runs[0]):
        seconds = statistics.median(r[i][1] for r in runs)
        lines.append(f"| {name} | {seconds * 1000:.1f} | {1 / seconds:,.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        (Path(__file__).resolve().parent / "VERIFY.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
