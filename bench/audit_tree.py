"""Speed of the audit log's Merkle tree (vault.audit.tree / vault.audit.proofs), pure Python.

Run ``python bench/audit_tree.py [--runs 5] [--appends 200000] [--leaves 1000000]``.
Prints, as medians of several runs:
- appends per second of ``CompactRange`` (the frontier: O(log n) per append), given leaf
  hashes and given raw entries (hashing included), and of ``MemoryNodeStore`` (which also
  keeps every interior node, as the database will);
- with ``--leaves`` leaves in a ``MemoryNodeStore``: time per root, inclusion proof and
  consistency proof, how many stored nodes each reads, and time to verify each.
The project's end-to-end target is 5,000 audited accesses a second, database included;
the tree alone should be a small fraction of that budget. No thresholds: figures only.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vault.audit.proofs import (
    MemoryNodeStore,
    consistency_proof,
    inclusion_proof,
    root_at,
)
from vault.audit.tree import (
    CompactRange,
    NodeId,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

ENTRY = b'{"seq":%d,"actor":"dept:0x5a1c","subject":"p:9f3e","grant":"g-77","purpose":"x"}'


def median_rate(runs: int, count: int, work: Callable[[], None]) -> float:
    """Median of ``runs`` timings of ``work`` (which does ``count`` operations), per second."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return count / statistics.median(times)


def median_us(samples: Sequence[Callable[[], object]]) -> float:
    """Median wall time of each call, in microseconds."""
    times = []
    for call in samples:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


class Counting:
    """Wraps a store to count the nodes a proof reads."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner, self.nodes = inner, 0

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        self.nodes += len(ids)
        return self.inner.get_nodes(ids)


def bench_appends(runs: int, n: int) -> None:
    entries = [ENTRY % i for i in range(n)]
    hashes = [leaf_hash(e) for e in entries]

    def frontier() -> None:
        cr = CompactRange()
        for h in hashes:
            cr.append(h)

    def frontier_hashing() -> None:
        cr = CompactRange()
        for e in entries:
            cr.append(leaf_hash(e))

    def store() -> None:
        s = MemoryNodeStore()
        for h in hashes:
            s.append(h)

    print(f"## Appends ({n:,} per run, median of {runs} runs)\n")
    print("| structure | appends/s | µs/append |")
    print("| --- | ---: | ---: |")
    for name, work in [
        ("CompactRange.append(leaf hash)", frontier),
        (f"CompactRange.append(leaf_hash(entry)), {len(entries[0])}-byte entry", frontier_hashing),
        ("MemoryNodeStore.append(leaf hash), keeps all nodes", store),
    ]:
        rate = median_rate(runs, n, work)
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.2f} |")
    print()


def bench_proofs(leaves: int, samples: int, seed: int) -> None:
    t0 = time.perf_counter()
    store = MemoryNodeStore.from_leaf_hashes(leaf_hash(ENTRY % i) for i in range(leaves))
    build = time.perf_counter() - t0
    rng = random.Random(seed)
    size = leaves
    rt = root_at(store, size)
    counting = Counting(store)

    idx = [rng.randrange(size) for _ in range(samples)]
    inc = [inclusion_proof(store, i, size) for i in idx]
    old = [rng.randrange(1, size) for _ in range(samples)]
    cons = [consistency_proof(store, m, size) for m in old]
    old_roots = [root_at(store, m) for m in old]
    leaf_hashes = store.get_nodes([(0, i) for i in idx])
    assert all(verify_inclusion(i, size, h, p, rt) for i, h, p in zip(idx, leaf_hashes, inc, strict=False))
    assert all(verify_consistency(m, size, r, rt, p) for m, r, p in zip(old, old_roots, cons, strict=False))

    def nodes_read(calls: list[Callable[[], object]]) -> int:
        most = 0
        for call in calls:
            counting.nodes = 0
            call()
            most = max(most, counting.nodes)
        return most

    roots = [partial(root_at, store, m) for m in old]
    proofs = [partial(inclusion_proof, store, i, size) for i in idx]
    consistency = [partial(consistency_proof, store, m, size) for m in old]
    counted = (
        nodes_read([partial(root_at, counting, m) for m in old]),
        nodes_read([partial(inclusion_proof, counting, i, size) for i in idx]),
        nodes_read([partial(consistency_proof, counting, m, size) for m in old]),
    )
    verify_inc = [partial(verify_inclusion, i, size, h, p, rt) for i, h, p in zip(idx, leaf_hashes, inc, strict=False)]
    verify_con = [partial(verify_consistency, m, size, r, rt, p) for m, r, p in zip(old, old_roots, cons, strict=False)]

    print(f"## Proofs at {size:,} leaves (MemoryNodeStore, median of {samples} random queries)\n")
    print(
        f"Building the store (every leaf and interior node): {build:.2f} s "
        f"({leaves / build:,.0f} appends/s including entry hashing)\n"
    )
    print("| operation | median µs | max nodes read |")
    print("| --- | ---: | ---: |")
    rows: list[tuple[str, Sequence[Callable[[], object]], int | str]] = [
        ("root of a past tree size (root_at)", roots, counted[0]),
        ("inclusion proof", proofs, counted[1]),
        ("consistency proof (random old size)", consistency, counted[2]),
        ("verify inclusion", verify_inc, "-"),
        ("verify consistency", verify_con, "-"),
    ]
    for name, calls, nodes in rows:
        print(f"| {name} | {median_us(calls):.1f} | {nodes} |")
    print(f"\nProof lengths: inclusion {max(map(len, inc))} hashes, consistency up to {max(map(len, cons))} hashes.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--appends", type=int, default=200_000)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=9162)
    args = ap.parse_args()
    print(f"# Audit tree benchmark: Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs\n")
    bench_appends(args.runs, args.appends)
    bench_proofs(args.leaves, args.samples, args.seed)


if __name__ == "__main__":
    main()
