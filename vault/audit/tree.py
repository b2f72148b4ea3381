"""The audit log's Merkle tree: RFC 9162 (Certificate Transparency 2.0) hashing, exactly.

Pure standard library, no database, no chain, so that anyone holding a signed tree head can
check our proofs with the same code (or any CT verifier) and so that it is fast to test.

- ``leaf_hash(e) = SHA-256(0x00 || e)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``: the
  distinct prefixes stop an interior node being passed off as a leaf (second preimage).
- ``root(leaf_hashes)`` is MTH (RFC 9162 §2.1.1): split at the largest power of two < n.
- ``CompactRange`` keeps only the roots of the perfect subtrees covering ``[0, size)`` (one per
  set bit of ``size``), so an append costs O(log n) hashes (amortised 1) and the current root
  O(log n), however many millions of entries the log holds.
- ``verify_inclusion`` / ``verify_consistency`` are the §2.1.3.2 / §2.1.4.2 algorithms.
  They never raise: anything that is not a valid proof, malformed input included (negative or
  oversized sizes, index >= size, hashes that are not 32 bytes, a proof that is not a list),
  yields ``False``. A verifier's only job is yes/no on untrusted input; one outcome for every
  kind of "no" means no caller can forget an ``except`` and fail open.
- Proof *generation* (server side, over a store of interior nodes) is in ``vault.audit.proofs``;
  it raises ``AuditTreeError`` (a ``ValueError``) for impossible requests.

Node ids: ``(level, index)`` names the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hashes themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TypeGuard

from vault.errors import VaultValueError

HASH_LEN = 32
MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 in RFC 9162's TLS structures
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH() (§2.1.1)

NodeId = tuple[int, int]  # (level, index), see the module docstring

_sha256 = hashlib.sha256  # bound once: appends are hot
_LEAF = b"\x00"
_NODE = b"\x01"


class AuditTreeError(VaultValueError):
    """A request that can never be answered: index >= size, size1 > size2, a bad hash."""


def leaf_hash(entry: bytes) -> bytes:
    """MTH of a one-entry list: ``SHA-256(0x00 || entry)``."""
    return _sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: ``SHA-256(0x01 || left || right)``. Unchecked: callers validate."""
    return _sha256(_NODE + left + right).digest()


def is_hash(value: object) -> TypeGuard[bytes]:
    """True for a 32-byte ``bytes`` (the only shape a SHA-256 tree hash can have)."""
    return isinstance(value, bytes) and len(value) == HASH_LEN


def is_size(value: object) -> TypeGuard[int]:
    """True for an int in [0, 2**64) that is not a bool (``True`` is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TREE_SIZE


def check_hash(value: object, field: str) -> bytes:
    if not is_hash(value):
        raise AuditTreeError(f"{field} must be {HASH_LEN} bytes", field=field)
    return value


def check_size(value: object, field: str) -> int:
    if not is_size(value):
        raise AuditTreeError(f"{field} must be an integer in [0, 2**64)", field=field)
    return value


def perfect_subtrees(start: int, end: int) -> list[NodeId]:
    """The stored nodes whose right fold is MTH(D[start:end]), largest (leftmost) first.

    MTH splits off the largest power of two each time, so the pieces follow the set bits of
    ``end - start`` from the top. Each piece must be aligned to its own size to be a stored
    node; every range a proof needs is (its start is a sum of larger powers of two).
    """
    if not (is_size(start) and is_size(end) and start <= end):
        raise AuditTreeError(f"bad range [{start}, {end})", field="range")
    ids: list[NodeId] = []
    width = end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if start & ((1 << level) - 1):
                raise AuditTreeError(f"range [{start}, {end}) is not aligned", field="range")
            ids.append((level, start >> level))
            start += 1 << level
    return ids


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of perfect subtree roots, largest first, into their MTH (empty: EMPTY_ROOT)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(_NODE + h + acc).digest()
    return acc


class CompactRange:
    """The frontier of the tree over ``[0, size)``: one perfect subtree root per set bit.

    To resume after a restart, build it from the stored frontier nodes
    (``perfect_subtrees(0, size)``; ``vault.audit.proofs.compact_range`` does that).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        check_size(size, "size")
        if len(hashes) != size.bit_count():
            raise AuditTreeError(
                f"a tree of {size} leaves has {size.bit_count()} frontier nodes, not {len(hashes)}",
                field="hashes",
            )
        self._size = size
        self._hashes = [check_hash(h, "hashes") for h in hashes]

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Frontier roots, largest (leftmost) first; ids are ``perfect_subtrees(0, size)``."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[bytes]:
        """Add one leaf hash; return the hashes of the nodes this append completed.

        Element ``l`` of the result is node ``(l, index >> l)`` where ``index`` is the new
        leaf's index (element 0 is the leaf itself): exactly the rows a database-backed
        ``NodeStore`` must insert, so it never reads children back to hash a parent.
        """
        if not (isinstance(leaf, bytes) and len(leaf) == HASH_LEN):
            raise AuditTreeError(f"leaf hash must be {HASH_LEN} bytes", field="leaf")
        if self._size == MAX_TREE_SIZE:
            raise AuditTreeError("the tree is full", field="size")
        stack = self._hashes
        done = [leaf]
        n = self._size
        # Each trailing 1 bit of the old size is a perfect subtree of the same width as the
        # node being carried up: merge them, like carries in binary addition.
        while n & 1:
            leaf = _sha256(_NODE + stack.pop() + leaf).digest()
            done.append(leaf)
            n >>= 1
        stack.append(leaf)
        self._size += 1
        return done

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the whole range in O(log n) hashes."""
        return fold(self._hashes)


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over a list of leaf hashes (not entries: hash those with ``leaf_hash`` first)."""
    cr = CompactRange()
    cr.extend(leaf_hashes)
    return cr.root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not (is_size(index) and is_size(size) and index < size):
        return False
    if not (is_hash(leaf) and is_hash(root) and isinstance(proof, (list, tuple))):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:  # elements are checked as they are used, so a huge list costs nothing
        if sn == 0 or not is_hash(p):
            return False
        if fn & 1 or fn == sn:
            r = _sha256(_NODE + p + r).digest()
            if not fn & 1:
                # fn is the last node of its level with no right sibling: it is promoted,
                # so skip the levels where it has none.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(_NODE + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (size1, root1) a prefix of the tree (size2, root2)?

    Edge cases the RFC leaves to the caller (its algorithm assumes 0 < size1 < size2):
    equal sizes need an empty proof and equal roots; size1 = 0 needs an empty proof and
    root1 = EMPTY_ROOT, since that is the only root a tree of no entries can have.
    """
    if not (is_size(size1) and is_size(size2) and size1 <= size2):
        return False
    if not (is_hash(root1) and is_hash(root2) and isinstance(proof, (list, tuple))):
        return False
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT and (size2 > 0 or root2 == EMPTY_ROOT)
    if size1 == size2:
        return not proof and root1 == root2
    if not proof:
        return False
    rest = iter(proof)  # no copy: a hostile million-element proof is rejected after ~64 steps
    if size1 & (size1 - 1) == 0:
        # The old tree is a perfect subtree of the new one, so its root is a node of the new
        # tree and the proof omits it: the RFC prepends first_hash.
        first = root1
    else:
        first = next(rest)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    if not is_hash(first):
        return False
    fr = sr = first
    for c in rest:
        if sn == 0 or not is_hash(c):
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE + c + fr).digest()
            sr = _sha256(_NODE + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(_NODE + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2
