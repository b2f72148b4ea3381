"""A bounded load run with kill -9 (issue 12): minutes of mixed traffic against `datavault up`
on PostgreSQL and anvil while the API, the node and PostgreSQL are killed in turn, again and
again, and started again. Prints what the clients got (answers by status, connections
refused while the API was down, hangs), what reached the chain, and every defect found:
a write answered 201 and lost, a grant or anchor on chain twice, a read missing from the
access log, an answer other than a success or a 503 with a reason. The short version is
tests/integration/test_load_and_kill.py; the machinery is tests/support/chaos.py.

    .venv/bin/python bench/load_and_kill.py [--minutes 3] [--every 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import chaos

PG_PORT = 55470


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between kills")
    args = parser.parse_args()
    seconds = args.minutes * 60
    order = ("vault", "node", "postgres")
    kills = [(at, order[i % 3], 1.5) for i, at in enumerate(range(5, int(seconds) - 5, int(args.every)))]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = chaos.Cluster(Path(tmp), PG_PORT)
        cluster.start_pg()
        try:
            cluster.start_node()
            cluster.start_vault()
            outcome, long_grant = asyncio.run(chaos.run(cluster, seconds, kills, print))
            db = asyncio.run(chaos.settled(cluster, timeout=300))
            chain = chaos.on_chain(cluster.node_url, db["deployment"], db)
        finally:
            cluster.stop()
    wrong = chaos.check(outcome, db, chain, long_grant)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{args.minutes:g} min of traffic, {len(kills)} kills (every {args.every:g} s); load average {load}\n")
    print("| measure | count |")
    print("|---|---:|")
    for status, n in sorted(outcome.statuses.items()):
        print(f"| answers {status} | {n} |")
    print(f"| connections refused (API down) | {outcome.refused_connections} |")
    print(f"| hangs (> {chaos.HANG:g} s) | {len(outcome.hangs)} |")
    print(f"| records issued (201) | {len(outcome.records)} |")
    print(f"| grants given (201) | {len(outcome.grants)} |")
    print(f"| reads (200) | {outcome.reads} |")
    events = " / ".join(str(sum(chain[k].values())) for k in ("grants", "roots", "heads"))
    print(f"| events on chain: grants / roots / tree heads (a restored node may lack some) | {events} |")
    print(f"| defects | {len(wrong)} |")
    for w in wrong:
        print(f"- {w}")
    print(
        f"\n    .venv/bin/python bench/load_and_kill.py --minutes {args.minutes:g} --every {args.every:g}"
        f"   ({time.monotonic() - started:.0f} s in all)"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
