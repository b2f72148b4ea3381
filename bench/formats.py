"""What each credential format costs: sizes, exports and online verdicts, one at a time.

Runs the vault as the tests do (tests/support/harness.py: the API in-process over ASGI) on
anvil by default, issues a 机动车驾驶证 and times, as medians of several rounds:
- exports by the holder: the SD-JWT VC (POST /me/records/{id}/sd-jwt) and the W3C VC
  (GET /me/records/{id}/vc); the status lists (GET /status/token-list, /status/bitstring-list);
- online verdicts at a counter (POST /presentations/verify) of the same two fields shown as
  DV1, as DC1 (COSE) and as an SD-JWT VC with its key binding.
Prints a Markdown table and writes it to bench/FORMATS.md.

    .venv/bin/python bench/formats.py [--chain anvil|inprocess] [--rounds 30] [--runs 3]
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.formats_conformance.cose_presentations import present_cose
from tests.presentation_conformance import LICENCE, present
from tests.support.harness import Actor, Harness, open_harness
from vault import clock
from vault.interop import jose_keys, sd_jwt_holder

SHOWN = ["姓名", "准驾车型"]


async def timed(rounds: int, step: Callable[[], Awaitable[Any]]) -> float:
    took = []
    for _ in range(rounds):
        started = time.perf_counter()
        await step()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


async def verdicts(h: Harness, counter: Actor, texts: list[str]) -> float:
    took = []
    for text in texts:
        started = time.perf_counter()
        r = await h.http.post("/presentations/verify", json={"text": text}, headers=counter.headers)
        took.append(time.perf_counter() - started)
        assert r.status_code == 200 and r.json()["valid"], r.text
    return statistics.median(took)


async def run(chain: str, rounds: int) -> tuple[dict[str, float], dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp), chain=chain)
        try:
            issuer = await h.department("gongan")
            counter = await h.department("jiaotong", roles=["verifier"])
            citizen = await h.subject(issuer)
            record = (await h.issue(issuer, fields=LICENCE))["id"]
            await h.settle()
            holder_jwk = jose_keys.public_jwk(citizen.key.account)

            async def sd_jwt() -> str:
                r = await h.http.post(
                    f"/me/records/{record}/sd-jwt", json={"holder_jwk": holder_jwk}, headers=citizen.headers
                )
                assert r.status_code == 200, r.text
                return r.text

            async def vc() -> str:
                r = await h.http.get(f"/me/records/{record}/vc", headers=citizen.headers)
                assert r.status_code == 200, r.text
                return r.text

            async def status(path: str) -> None:
                assert (await h.http.get(path)).status_code == 200

            issued = await sd_jwt()
            key = jose_keys.private_jwk(citizen.key.account)
            shown_sd = [
                sd_jwt_holder.present(
                    issued, SHOWN, holder_key=key, nonce=f"0x{i:032x}", aud="jiaotong", now=clock.now()
                )
                for i in range(rounds)
            ]
            dv1 = [await present(h, citizen, record, SHOWN) for _ in range(rounds)]
            dc1 = [(await present_cose(h, citizen, record, SHOWN))["text"] for _ in range(rounds)]
            times = {
                "export SD-JWT VC": await timed(rounds, sd_jwt),
                "export W3C VC (vc+jwt)": await timed(rounds, vc),
                "GET /status/token-list": await timed(rounds, lambda: status("/status/token-list")),
                "GET /status/bitstring-list": await timed(rounds, lambda: status("/status/bitstring-list")),
                "verify DV1 (2 fields)": await verdicts(h, counter, dv1),
                "verify DC1 (2 fields)": await verdicts(h, counter, dc1),
                "verify SD-JWT VC + key binding (2 claims)": await verdicts(h, counter, shown_sd),
            }
            sizes = {
                "SD-JWT VC, whole": len(issued),
                "W3C VC (vc+jwt)": len(await vc()),
                "DV1, 2 fields": len(dv1[0]),
                "DC1, 2 fields": len(dc1[0]),
                "SD-JWT VC + key binding, 2 claims": len(shown_sd[0]),
            }
        finally:
            await h.close()
    return times, sizes


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--chain", default="anvil", choices=["anvil", "inprocess"])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--runs", type=int, default=3, help="whole runs; the table shows the median of their medians")
    p.add_argument("--no-write", action="store_true", help="print only; do not write bench/FORMATS.md")
    args = p.parse_args()
    runs = [asyncio.run(run(args.chain, args.rounds)) for _ in range(args.runs)]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# Credential formats: sizes and costs",
        "",
        (
            f"`python bench/formats.py --chain {args.chain} --rounds {args.rounds} --runs {args.runs}`: one at a "
            f"time through the API in-process (no socket); the median of each run, then the median of {args.runs} "
            f"runs ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load "
            f"average {load} at the end)."
        ),
        "",
        "| operation | ms |",
        "| --- | ---: |",
        *(f"| {name} | {statistics.median(r[0][name] for r in runs) * 1000:.1f} |" for name in runs[0][0]),
        "",
        "| text | characters |",
        "| --- | ---: |",
        *(f"| {name} | {size} |" for name, size in runs[-1][1].items()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (Path(__file__).resolve().parent / "FORMATS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
