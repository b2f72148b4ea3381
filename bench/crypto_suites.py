"""What the sm crypto suite costs beside intl (issue 14): sealing and opening a record body
(``keys.seal`` / ``keys.open_sealed``: a fresh data key, the body under it, the data key
wrapped by the subject's KEK) of 1 KiB and 16 KiB, and one authorised department read in
process (the tests' harness: SQLite, the in-process chain, the API over ASGI), each suite side
by side, the median of ``--rounds`` rounds. Writes bench/CRYPTO_SUITES.md.

    .venv/bin/python bench/crypto_suites.py [--rounds 5] [--ops 2000] [--reads 100]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keys import KeyId, Suite, generate_kek, open_sealed, seal
from tests import grant_conformance as gc
from tests.support.harness import open_harness

SIZES = (1024, 16 * 1024)
AAD = b"record|subject|record|1"


def envelope(suite: Suite, size: int, rounds: int, ops: int) -> tuple[float, float]:
    """(seal MB/s, open MB/s), medians over rounds of ``ops`` records."""
    kek = generate_kek(KeyId("subject:bench"), 1, suite)
    lookup = {(kek.key_id, kek.version): kek}.__getitem__
    body = os.urandom(size)
    sealed = [seal(body, AAD, kek) for _ in range(ops)]
    seal_rates, open_rates = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(ops):
            seal(body, AAD, kek)
        seal_rates.append(ops * size / (time.perf_counter() - started) / 1e6)
        started = time.perf_counter()
        for s in sealed:
            open_sealed(s, AAD, lambda key_id, version: lookup((key_id, version)))
        open_rates.append(ops * size / (time.perf_counter() - started) / 1e6)
    return statistics.median(seal_rates), statistics.median(open_rates)


async def reads(suite: Suite, rounds: int, count: int) -> float:
    """Median ms per authorised read of a citizen's licence in a vault of ``suite``."""
    os.environ["DATAVAULT_CRYPTO"] = str(suite)
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp))
        try:
            assert h.vault.ctx.suite is suite
            _, reader, citizen, _ = await gc.setup(h)
            grant = (await gc.granted(h, citizen, max_uses=1_000_000))["id"]
            path, headers = f"/grants/{grant}/read", reader.headers

            async def once() -> None:
                r = await h.http.post(path, json={}, headers=headers)
                assert r.status_code == 200, r.text

            for _ in range(20):
                await once()
            per_read = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(count):
                    await once()
                per_read.append((time.perf_counter() - started) / count * 1000)
                await h.vault.sequencer.run_once(int(time.time()))
            return statistics.median(per_read)
        finally:
            await h.close()
            os.environ.pop("DATAVAULT_CRYPTO", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=100)
    args = parser.parse_args()
    rows = []
    for size in SIZES:
        figures = {suite: envelope(suite, size, args.rounds, args.ops) for suite in Suite}
        rows.append((size, figures))
    read_ms = {suite: asyncio.run(reads(suite, args.rounds, args.reads)) for suite in Suite}
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    lines = [
        "# Crypto suites: intl vs sm, side by side",
        "",
        "`bench/crypto_suites.py`: seal/open of one record body (fresh data key, body, data key wrapped",
        "by the subject's KEK) and one authorised department read in process (SQLite, in-process chain,",
        f"API over ASGI). Median of {args.rounds} rounds; {args.ops} records per round, {args.reads} reads",
        f"per round. Load average while measuring: {load_avg}.",
        "",
        "| operation | intl (AES-256-GCM) | sm (SM4-GCM) | sm / intl |",
        "| --- | ---: | ---: | ---: |",
    ]
    for size, figures in rows:
        intl, sm = figures[Suite.INTL], figures[Suite.SM]
        kib = size // 1024
        lines.append(f"| seal {kib} KiB (MB/s) | {intl[0]:.0f} | {sm[0]:.0f} | {sm[0] / intl[0]:.2f} |")
        lines.append(f"| open {kib} KiB (MB/s) | {intl[1]:.0f} | {sm[1]:.0f} | {sm[1] / intl[1]:.2f} |")
    intl_ms, sm_ms = read_ms[Suite.INTL], read_ms[Suite.SM]
    lines.append(f"| grant read (ms, lower is better) | {intl_ms:.2f} | {sm_ms:.2f} | {sm_ms / intl_ms:.2f} |")
    lines += [
        "",
        f"    .venv/bin/python bench/crypto_suites.py --rounds {args.rounds} --ops {args.ops} --reads {args.reads}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    path = ROOT / "bench" / "CRYPTO_SUITES.md"
    # bench/reencrypt.py's section, after its mark, stays as it last wrote it.
    mark = "<!-- bench/reencrypt.py -->"
    kept = path.read_text().partition(mark) if path.exists() else ("", "", "")
    path.write_text(text + (f"\n{mark}{kept[2]}" if kept[1] else ""))


if __name__ == "__main__":
    main()
