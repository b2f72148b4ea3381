"""Serving RFC 9162 proofs from stored interior nodes, in O(log n) node reads.

The audit log keeps, besides its entries, every *perfect* subtree hash ``(level, index)``
(see ``vault.audit.tree``): ``CompactRange.append`` hands back exactly the nodes an append
completes, about two per entry. Any subtree a proof needs is then a right fold of at most
log2(n) such nodes (only the ragged right edge of a tree is not perfect), so an inclusion or
consistency proof for a log of millions of entries costs one batched read of ~2 log2(n) rows
and a handful of hashes, never a rehash of the leaves.

A ``NodeStore`` is whatever holds those nodes: ``MemoryNodeStore`` here (reference and
tests), a table keyed by (level, index) in the database. Proofs are computed in two steps,
both exposed: *which ranges* (pure arithmetic, RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF
unrolled into loops), then *their hashes* (one ``get_nodes`` call).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from vault.audit.tree import (
    EMPTY_ROOT,
    AuditTreeError,
    CompactRange,
    NodeId,
    check_hash,
    check_size,
    fold,
    node_hash,
    perfect_subtrees,
)

Range = tuple[int, int]  # [start, end) of leaf indices; its hash is MTH(D[start:end])


class NodeStore(Protocol):
    """Read access to stored perfect subtree hashes."""

    def get_nodes(self, ids: Sequence[NodeId]) -> Sequence[bytes]:
        """The hashes of ``ids``, in the same order; one round trip for the whole batch.

        Raise ``LookupError`` (``KeyError``) if any is not stored: a proof must never be
        built from a guess.
        """
        ...


class MemoryNodeStore:
    """Every perfect subtree hash, level by level, in lists: the reference ``NodeStore``."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MemoryNodeStore:
        store = cls()
        for h in leaf_hashes:
            store.append(h)
        return store

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Store a leaf hash and each parent it completes (O(1) amortised)."""
        check_hash(leaf, "leaf")
        levels, h, i = self._levels, leaf, self.size
        level = 0
        while True:
            levels[level].append(h)
            if not i & 1:  # a left child: its parent waits for a right sibling
                return
            h = node_hash(levels[level][i - 1], h)
            i >>= 1
            level += 1
            if level == len(levels):
                levels.append([])

    def add_nodes(self, index: int, hashes: Sequence[bytes]) -> None:
        """Store what ``CompactRange.append`` returned for leaf ``index`` (node l = (l, i >> l)).

        What a database-backed store does on append; kept here so tests can check that the
        two ways of filling a store agree.
        """
        if index != self.size:
            raise AuditTreeError(f"expected leaf {self.size}, got {index}", field="index")
        for level, h in enumerate(hashes):
            if level == len(self._levels):
                self._levels.append([])
            if len(self._levels[level]) != index >> level:
                raise AuditTreeError(f"node ({level}, {index >> level}) out of order")
            self._levels[level].append(check_hash(h, "hash"))

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        levels = self._levels
        out: list[bytes] = []
        for level, index in ids:
            # Python would read a negative index from the end: refuse it rather than lie.
            if level < 0 or index < 0 or level >= len(levels) or index >= len(levels[level]):
                raise KeyError((level, index))
            out.append(levels[level][index])
        return out


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form PATH(index, D[0:size]), leaf to root (§2.1.3.1)."""
    check_size(index, "index")
    check_size(size, "size")
    if index >= size:
        raise AuditTreeError(f"leaf {index} is not in a tree of {size}", field="index")
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        # k = largest power of two smaller than n: the RFC split.
        mid = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        if index < mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
    out.reverse()  # found root to leaf; the proof lists them leaf to root
    return out


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """The subtrees whose hashes form PROOF(size1, D[0:size2]) (§2.1.4.1); empty if trivial."""
    check_size(size1, "size1")
    check_size(size2, "size2")
    if size1 > size2:
        raise AuditTreeError(f"size1 {size1} exceeds size2 {size2}", field="size1")
    if size1 == 0 or size1 == size2:
        return []
    out: list[Range] = []
    lo, hi = 0, size2
    whole = True  # SUBPROOF's b: is [lo, hi) still the left edge containing the old root?
    while size1 != hi:  # i.e. m != n in the RFC's relative terms
        mid = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        if size1 <= mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
            whole = False
    if not whole:
        out.append((lo, hi))  # this subtree is a node of both trees: the verifier starts here
    out.reverse()
    return out


def range_hashes(store: NodeStore, ranges: Sequence[Range]) -> list[bytes]:
    """MTH of each range, from one batched read of the perfect subtrees they split into."""
    pieces = [perfect_subtrees(start, end) for start, end in ranges]
    hashes = store.get_nodes([node for ids in pieces for node in ids])
    if len(hashes) != sum(map(len, pieces)):
        raise LookupError("node store returned the wrong number of hashes")
    out: list[bytes] = []
    at = 0
    for ids in pieces:
        out.append(fold(hashes[at : at + len(ids)]))
        at += len(ids)
    return out


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of the first ``size`` leaves."""
    return range_hashes(store, inclusion_ranges(index, size))


def consistency_proof(store: NodeStore, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``."""
    return range_hashes(store, consistency_ranges(size1, size2))


def root_at(store: NodeStore, size: int) -> bytes:
    """The root of the tree of the first ``size`` stored leaves (a past tree head too)."""
    if check_size(size, "size") == 0:
        return EMPTY_ROOT
    return range_hashes(store, [(0, size)])[0]


def compact_range(store: NodeStore, size: int) -> CompactRange:
    """Resume appending at ``size`` from the stored frontier (one read, popcount(size) rows)."""
    check_size(size, "size")
    return CompactRange(size, list(store.get_nodes(perfect_subtrees(0, size))))
