"""How long a citizen waits for the first page of its records, at 100, 1,000 and 10,000 records.

Runs the vault as the tests do (tests/support/harness.py: the API in-process over ASGI, SQLite,
the in-process chain by default), registers one citizen, issues its records in bulk
(``POST /records/bulk``) and anchors them, then times ``GET /me/records`` as a client calls it
(no parameters: the first page, default ``limit``), from send to the parsed answer. Each size is
reached by issuing more records into the same vault; at each size the request is timed
``--repeat`` times and the median kept; the table shows the median of ``--runs`` whole runs.

The answer's shape tells the code it runs against: a JSON list is the list before pagination
(every record, decrypted), an object is one page (``records``, ``total``, ``next``). To measure
the old path, run this file against the commit before pagination, e.g.::

    git worktree add /tmp/before <commit> && cp bench/record_list.py /tmp/before/bench/ && \\
    cd /tmp/before && /work/main/.venv/bin/python bench/record_list.py --no-write

Prints a Markdown table; ``--write`` puts it in bench/RECORD_LIST.md between the markers.

    .venv/bin/python bench/record_list.py [--sizes 100,1000,10000] [--runs 3] [--repeat 3]
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.harness import CITIZEN_ID, YEAR, Harness, open_harness
from vault import clock

OUT = ROOT / "bench" / "RECORD_LIST.md"
BEGIN, END = "<!-- record_list.py: begin -->", "<!-- record_list.py: end -->"
CHUNK = 5_000  # records per bulk request


async def grow(h: Harness, dept: Any, have: int, want: int) -> None:
    until = clock.now() + YEAR
    while have < want:
        n = min(CHUNK, want - have)
        items = [
            {
                "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
                "type": "certificate",
                "title": "无犯罪记录证明",
                "fields": {"编号": f"NCR-{have + i:06d}", "结论": "无犯罪记录", "出具单位": "市公安局"},
                "valid_until": until,
            }
            for i in range(n)
        ]
        r = await h.http.post("/records/bulk", json={"items": items}, headers=dept.headers, timeout=600)
        assert r.status_code == 201, r.text[:500]
        have += n
    await h.settle(3)


async def first_page(h: Harness, citizen: Any) -> tuple[float, int, int]:
    """Seconds for one request, the records it carried and the total it reported."""
    started = time.perf_counter()
    r = await h.http.get("/me/records", headers=citizen.headers, timeout=600)
    body = r.json()
    seconds = time.perf_counter() - started
    assert r.status_code == 200, r.text[:500]
    if isinstance(body, list):  # before pagination: every record
        return seconds, len(body), len(body)
    return seconds, len(body["records"]), int(body["total"])


async def one_run(chain: str, sizes: list[int], repeat: int) -> list[tuple[int, float, int]]:
    out: list[tuple[int, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="record-list-bench-") as tmp:
        h = await open_harness(Path(tmp), chain=chain)
        try:
            dept = await h.department("gongan")
            citizen = await h.subject(dept)
            have = 0
            for size in sizes:
                await grow(h, dept, have, size)
                have = size
                times, shown = [], 0
                for _ in range(repeat):
                    seconds, shown, total = await first_page(h, citizen)
                    assert total == size, (total, size)
                    times.append(seconds)
                out.append((size, statistics.median(times), shown))
        finally:
            await h.close()
    return out


def table(args: argparse.Namespace, runs: list[list[tuple[int, float, int]]]) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        (
            f"`.venv/bin/python bench/record_list.py --chain {args.chain} --sizes {args.sizes} --runs {args.runs} "
            f"--repeat {args.repeat}`: `GET /me/records` with no parameters, in-process over ASGI, SQLite; "
            f"median of {args.repeat} requests per size, then the median of {args.runs} runs "
            f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"load average {load})."
        ),
        "",
        "| records held | first page, median ms | records in the answer |",
        "| ---: | ---: | ---: |",
    ]
    for i, (size, _, shown) in enumerate(runs[0]):
        seconds = statistics.median(r[i][1] for r in runs)
        lines.append(f"| {size:,} | {seconds * 1000:,.1f} | {shown:,} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--chain", default="inprocess", choices=["anvil", "inprocess"])
    p.add_argument("--sizes", default="100,1000,10000", help="records held, ascending, comma-separated")
    p.add_argument("--runs", type=int, default=3, help="whole runs; the table shows the median of their medians")
    p.add_argument("--repeat", type=int, default=3, help="requests timed at each size in a run")
    p.add_argument("--write", action="store_true", help=f"put the table in {OUT.name} between its markers")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not sizes or sizes[0] < 1 or sizes[-1] > 100_000:
        p.error("sizes must be 1-100,000")
    runs = [asyncio.run(one_run(args.chain, sizes, args.repeat)) for _ in range(args.runs)]
    text = table(args, runs)
    print(text)
    if args.write:
        doc = OUT.read_text(encoding="utf-8")
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        OUT.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
