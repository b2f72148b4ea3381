"""vault.audit.tree / vault.audit.proofs: RFC 9162 Merkle tree, proofs and their verification.

Three kinds of evidence: published known-answer vectors from Certificate Transparency
implementations; agreement with a naive transcription of the RFC's recursive definitions for
every index and every pair of sizes of small trees; and refusal of every tampered proof.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence

import pytest

from vault.audit.proofs import (
    MemoryNodeStore,
    compact_range,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    range_hashes,
    root_at,
)
from vault.audit.tree import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    AuditTreeError,
    CompactRange,
    NodeId,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root,
    verify_consistency,
    verify_inclusion,
)
from vault.errors import VaultValueError

# --------------------------------------------------------------------------------------------
# Published vectors (data only). The RFC 6962 reference tree of eight leaves, its roots for
# sizes 1..8, audit paths and consistency proofs, as published in
#   google/certificate-transparency   cpp/merkletree/merkle_tree_test.cc
#     (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs)
#   transparency-dev/merkle            proof/verify_test.go
#     (the same tree, plus the consistency proof 6 -> 7)
#   transparency-dev/merkle            rfc6962/rfc6962_test.go  (hasher vectors)
# Those files number leaves from 1 in their path tables; the indices below are RFC 9162's,
# from 0. RFC 6962 and RFC 9162 hash identically with SHA-256, so the vectors apply unchanged.
# --------------------------------------------------------------------------------------------

EMPTY_TREE_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HASHER_VECTORS = [  # (what, computed by the module, published)
    ("empty leaf", leaf_hash(b""), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    ("leaf", leaf_hash(b"L123456"), "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"),
    ("node", node_hash(b"N123", b"N456"), "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"),
]
CT_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [  # root of the first n inputs, n = 1..8
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = [  # (leaf index from 0, tree size, audit path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
# Which subtrees each proof is made of, from transparency-dev/merkle proof/proof_test.go
# (TestInclusion, TestConsistency). There they are node ids (level, index), with a "rehash"
# span for the ragged right edge; here each entry is the leaf range [start, end) it covers.
TD_INCLUSION_LAYOUT = {  # (index, size): ranges, leaf to root
    (0, 1): [],
    (0, 2): [(1, 2)],
    (1, 2): [(0, 1)],
    (1, 3): [(0, 1), (2, 3)],
    (0, 7): [(1, 2), (2, 4), (4, 7)],
    (1, 7): [(0, 1), (2, 4), (4, 7)],
    (2, 7): [(3, 4), (0, 2), (4, 7)],
    (3, 7): [(2, 3), (0, 2), (4, 7)],
    (4, 7): [(5, 6), (6, 7), (0, 4)],
    (5, 7): [(4, 5), (6, 7), (0, 4)],
    (6, 7): [(4, 6), (0, 4)],
    (2, 4): [(3, 4), (0, 2)],
    (3, 5): [(2, 3), (0, 2), (4, 5)],
    (3, 6): [(2, 3), (0, 2), (4, 6)],
    (4, 6): [(5, 6), (0, 4)],
    (10, 15): [(11, 12), (8, 10), (12, 15), (0, 8)],
    (24, 31): [(25, 26), (26, 28), (28, 31), (16, 24), (0, 16)],
    (81, 95): [(80, 81), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)],
}
TD_CONSISTENCY_LAYOUT = {  # (size1, size2): ranges
    (1, 2): [(1, 2)],
    (1, 4): [(1, 2), (2, 4)],
    (1, 6): [(1, 2), (2, 4), (4, 6)],
    (2, 3): [(2, 3)],
    (2, 8): [(2, 4), (4, 8)],
    (3, 7): [(2, 3), (3, 4), (0, 2), (4, 7)],
    (4, 7): [(4, 7)],
    (5, 7): [(4, 5), (5, 6), (6, 7), (0, 4)],
    (6, 7): [(4, 6), (6, 7), (0, 4)],
    (7, 8): [(6, 7), (7, 8), (4, 6), (0, 4)],
    **{(n, n): [] for n in (1, 2, 3, 4, 5, 7, 8)},
    (2, 4): [(2, 4)],
    (3, 5): [(2, 3), (3, 4), (0, 2), (4, 5)],
    (3, 6): [(2, 3), (3, 4), (0, 2), (4, 6)],
    (4, 6): [(4, 6)],
    (1, 7): [(1, 2), (2, 4), (4, 7)],
    (10, 15): [(8, 10), (10, 12), (12, 15), (0, 8)],
    (24, 31): [(16, 24), (24, 31), (0, 16)],
    (81, 95): [(80, 81), (81, 82), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)],
}
TD_INCLUSION_ERRORS = [(0, 0), (1, 0), (2, 1), (3, 0), (8, 7)]  # (index, size)
TD_CONSISTENCY_ERRORS = [(5, 0), (9, 8)]  # (size1, size2)

H = bytes.fromhex
CT_LEAVES = [leaf_hash(H(x)) for x in CT_INPUTS]
CT_STORE = MemoryNodeStore.from_leaf_hashes(CT_LEAVES)
SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")


# --------------------------------------------------------------------------------------------
# A naive reference: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 transcribed as recursion over
# slices of one fixed list of leaves (memoised on the slice bounds only to keep tests fast).
# --------------------------------------------------------------------------------------------

MAX_N = 70
LEAVES = [leaf_hash(b"audit entry %d" % i) for i in range(2 * MAX_N + 2)]
STORE = MemoryNodeStore.from_leaf_hashes(LEAVES)


FULL_N = 33  # every proof of trees up to here goes through every tampering; above, a sample


def sample(n: int) -> set[int]:
    """Positions worth tampering with above FULL_N: the edges, the middle, powers of two."""
    return {0, 1, n // 3, n // 2, n - 2, n - 1} | {1 << b for b in range(n.bit_length())}


def _k(n: int) -> int:
    k = 1
    while 2 * k < n:
        k *= 2
    return k


@functools.cache
def naive_mth(start: int, end: int) -> bytes:
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return LEAVES[start]
    k = _k(n)
    left, right = naive_mth(start, start + k), naive_mth(start + k, end)
    return hashlib.sha256(b"\x01" + left + right).digest()


def naive_path(m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, start, start + k), naive_mth(start + k, end)]
    return [*naive_path(m - k, start + k, end), naive_mth(start, start + k)]


def naive_subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [naive_mth(start, end)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, start, start + k, whole), naive_mth(start + k, end)]
    return [*naive_subproof(m - k, start + k, end, False), naive_mth(start, start + k)]


def naive_consistency(m: int, n: int) -> list[bytes]:
    return [] if m in (0, n) else naive_subproof(m, 0, n, True)


# --------------------------------------------------------------------------------------------
# Tampering: every way of spoiling a valid proof that a verifier must notice.
# --------------------------------------------------------------------------------------------


def flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def proof_mutations(proof: Sequence[bytes], every_bit: bool) -> list[tuple[str, list[bytes]]]:
    p = list(proof)
    out: list[tuple[str, list[bytes]]] = [
        ("trailing garbage", [*p, SOME_HASH]),
        ("trailing empty-tree hash", [*p, EMPTY_ROOT]),
        ("preceding garbage", [SOME_HASH, *p]),
    ]
    if p:
        out += [
            ("truncated", p[:-1]),
            ("first removed", p[1:]),
            ("repeated last", [*p, p[-1]]),
            ("repeated first", [p[0], *p]),
            ("inserted component", [*p[:1], SOME_HASH, *p[1:]]),
        ]
    if p != p[::-1]:
        out.append(("reversed", p[::-1]))
    for i in range(len(p)):
        for bit in range(256) if every_bit else (3, 100, 255):
            out.append((f"proof[{i}] bit {bit}", [*p[:i], flip(p[i], bit), *p[i + 1 :]]))
        out.append((f"proof[{i}] replaced", [*p[:i], EMPTY_ROOT, *p[i + 1 :]]))
        out.append((f"proof[{i}] truncated to 31 bytes", [*p[:i], p[i][:31], *p[i + 1 :]]))
        if i + 1 < len(p) and p[i] != p[i + 1]:
            out.append((f"proof[{i}] <-> proof[{i + 1}]", [*p[:i], p[i + 1], p[i], *p[i + 2 :]]))
    return out


def accepted(probes: list[tuple[str, Callable[[], bool]]]) -> list[str]:
    return [desc for desc, check in probes if check()]


def inclusion_probes(
    index: int, size: int, leaf: bytes, proof: list[bytes], rt: bytes, every_bit: bool
) -> list[tuple[str, Callable[[], bool]]]:
    def v(i: int, n: int, lf: bytes, pr: list[bytes], r: bytes) -> Callable[[], bool]:
        return lambda: verify_inclusion(i, n, lf, pr, r)

    probes = [
        ("leaf + 1 bit", v(index, size, flip(leaf, 0), proof, rt)),
        ("root + 1 bit", v(index, size, leaf, proof, flip(rt, 255))),
        ("empty root", v(index, size, leaf, proof, EMPTY_ROOT)),
        ("size * 2", v(index, size * 2, leaf, proof, rt)),
        ("size // 2", v(index, size // 2, leaf, proof, rt)),
        ("index - 1", v(index - 1, size, leaf, proof, rt)),
    ]
    # Every other index, and every other size whose audit path has another length (a path of
    # the same shape in a bigger tree is not falsifiable without that tree's root).
    probes += [(f"index {j}", v(j, size, leaf, proof, rt)) for j in range(size + 2) if j != index]
    probes += [
        (f"size {m}", v(index, m, leaf, proof, rt))
        for m in range(2 * size + 2)
        if m != size and (index >= m or len(inclusion_ranges(index, m)) != len(proof))
    ]
    probes += [(d, v(index, size, leaf, p, rt)) for d, p in proof_mutations(proof, every_bit)]
    for bit in range(256) if every_bit else ():
        probes.append((f"leaf bit {bit}", v(index, size, flip(leaf, bit), proof, rt)))
        probes.append((f"root bit {bit}", v(index, size, leaf, proof, flip(rt, bit))))
    return probes


def consistency_probes(
    m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes], every_bit: bool
) -> list[tuple[str, Callable[[], bool]]]:
    def v(a: int, b: int, x: bytes, y: bytes, pr: list[bytes]) -> Callable[[], bool]:
        return lambda: verify_consistency(a, b, x, y, pr)

    probes = [
        ("root1 + 1 bit", v(m, n, flip(r1, 7), r2, proof)),
        ("root2 + 1 bit", v(m, n, r1, flip(r2, 200), proof)),
        ("swapped roots", v(m, n, r2, r1, proof)),
        ("empty proof", v(m, n, r1, r2, [])),
        ("trailing root1", v(m, n, r1, r2, [*proof, r1])),
        ("trailing root2", v(m, n, r1, r2, [*proof, r2])),
        ("preceding root1", v(m, n, r1, r2, [r1, *proof])),
        ("preceding root2", v(m, n, r1, r2, [r2, *proof])),
        ("size1 ^ 2", v(m ^ 2, n, r1, r2, proof)),
        ("size2 * 2", v(m, n * 2, r1, r2, proof)),
        ("size2 // 2", v(m, n // 2, r1, r2, proof)),
    ]
    probes += [(f"size1 {a}", v(a, n, r1, r2, proof)) for a in range(n + 2) if a != m]
    probes += [
        (f"size2 {b}", v(m, b, r1, r2, proof))
        for b in range(2 * n + 2)
        if b != n and (m > b or len(consistency_ranges(m, b)) != len(proof))
    ]
    probes += [(d, v(m, n, r1, r2, p)) for d, p in proof_mutations(proof, every_bit)]
    for bit in range(256) if every_bit else ():
        probes.append((f"root1 bit {bit}", v(m, n, flip(r1, bit), r2, proof)))
        probes.append((f"root2 bit {bit}", v(m, n, r1, flip(r2, bit), proof)))
    return probes


# --------------------------------------------------------------------------------------------
# Known answers
# --------------------------------------------------------------------------------------------


def test_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_TREE_HASH == root([]).hex() == root_at(CT_STORE, 0).hex()
    for what, got, want in HASHER_VECTORS:
        assert got.hex() == want, what
    # The empty tree is not the tree of one empty entry, and children are ordered.
    assert leaf_hash(b"") != EMPTY_ROOT
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(a, b) != node_hash(b, a) != leaf_hash(a + b)


def test_ct_roots_batch_incremental_and_stored() -> None:
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    for n in range(1, 9):
        cr.append(CT_LEAVES[n - 1])
        assert root(CT_LEAVES[:n]).hex() == CT_ROOTS[n - 1]
        assert cr.root().hex() == CT_ROOTS[n - 1]
        assert root_at(CT_STORE, n).hex() == CT_ROOTS[n - 1]


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_ct_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(CT_STORE, index, size)
    assert [p.hex() for p in proof] == path
    rt = H(CT_ROOTS[size - 1])
    assert verify_inclusion(index, size, CT_LEAVES[index], proof, rt)
    assert accepted(inclusion_probes(index, size, CT_LEAVES[index], proof, rt, True)) == []


@pytest.mark.parametrize(("size1", "size2", "path"), CT_CONSISTENCY)
def test_ct_consistency_vectors(size1: int, size2: int, path: list[str]) -> None:
    proof = consistency_proof(CT_STORE, size1, size2)
    assert [p.hex() for p in proof] == path
    r1, r2 = H(CT_ROOTS[size1 - 1]), H(CT_ROOTS[size2 - 1])
    assert verify_consistency(size1, size2, r1, r2, proof)
    if proof:
        assert accepted(consistency_probes(size1, size2, r1, r2, proof, True)) == []


def test_transparency_dev_proof_layouts() -> None:
    for (index, size), want in TD_INCLUSION_LAYOUT.items():
        assert inclusion_ranges(index, size) == want, (index, size)
    for (size1, size2), want in TD_CONSISTENCY_LAYOUT.items():
        assert consistency_ranges(size1, size2) == want, (size1, size2)
    for index, size in TD_INCLUSION_ERRORS:
        with pytest.raises(AuditTreeError):
            inclusion_ranges(index, size)
    for size1, size2 in TD_CONSISTENCY_ERRORS:
        with pytest.raises(AuditTreeError):
            consistency_ranges(size1, size2)


def test_ct_trivial_and_invalid_cases() -> None:
    # From the CT verifier tests, with one deliberate difference: hashes must be 32 bytes
    # and a tree of size 0 must have the empty root (CT accepted "don't care" roots there).
    h, e = SOME_HASH, EMPTY_ROOT
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(index, size, h, [], e)
        assert not verify_inclusion(index, size, b"", [], e)
        assert not verify_inclusion(index, size, h, [], b"")
    one = leaf_hash(b"data")  # a one-entry tree: its root is its leaf hash, the proof empty
    assert verify_inclusion(0, 1, one, [], one)
    assert not verify_inclusion(0, 1, one, [], b"")
    assert not verify_inclusion(0, 1, b"", [], one)
    assert verify_consistency(0, 0, e, e, [])
    assert verify_consistency(0, 1, e, h, [])
    assert verify_consistency(1, 1, h, h, [])
    assert not verify_consistency(0, 0, e, h, [])  # roots differ
    assert not verify_consistency(1, 1, e, h, [])
    assert not verify_consistency(0, 1, h, h, [])  # a size-0 tree with a non-empty root
    assert not verify_consistency(1, 0, e, e, [])  # time travel
    assert not verify_consistency(2, 1, h, h, [])
    assert not verify_consistency(1, 2, h, e, [])  # missing proof
    for size1, size2 in [(0, 0), (0, 1), (1, 1)]:  # roots match but the proof is not empty
        assert not verify_consistency(size1, size2, e, e, [e])


# --------------------------------------------------------------------------------------------
# Against the naive reference, every index and every pair of sizes up to MAX_N
# --------------------------------------------------------------------------------------------


def test_roots_batch_incremental_and_stored_match_naive() -> None:
    cr = CompactRange()
    for n in range(MAX_N + 1):
        want = naive_mth(0, n)
        assert cr.size == n and cr.root() == want, n
        assert root(LEAVES[:n]) == want and root_at(STORE, n) == want
        assert compact_range(STORE, n).root() == want
        cr.append(LEAVES[n])


@pytest.mark.parametrize("size", range(1, MAX_N + 1))
def test_every_inclusion_proof_matches_naive_and_resists_tampering(size: int) -> None:
    rt = naive_mth(0, size)
    for index in range(size):
        proof = inclusion_proof(STORE, index, size)
        assert proof == naive_path(index, 0, size), (index, size)
        assert len(proof) <= (size - 1).bit_length()
        assert verify_inclusion(index, size, LEAVES[index], proof, rt)
        if size <= FULL_N or index in sample(size):
            probes = inclusion_probes(index, size, LEAVES[index], proof, rt, size <= 4)
            assert accepted(probes) == [], (index, size)


@pytest.mark.parametrize("size2", range(MAX_N + 1))
def test_every_consistency_proof_matches_naive_and_resists_tampering(size2: int) -> None:
    r2 = naive_mth(0, size2)
    for size1 in range(size2 + 1):
        r1 = naive_mth(0, size1)
        proof = consistency_proof(STORE, size1, size2)
        assert proof == naive_consistency(size1, size2), (size1, size2)
        assert verify_consistency(size1, size2, r1, r2, proof)
        if proof and (size2 <= FULL_N or size1 in sample(size2)):
            probes = consistency_probes(size1, size2, r1, r2, proof, size2 <= 4)
            assert accepted(probes) == [], (size1, size2)


def test_only_the_honest_proof_verifies_for_the_wrong_leaf() -> None:
    # Proving leaf j at position i (i != j) must fail for every i, j in small trees.
    for size in range(1, 17):
        rt = naive_mth(0, size)
        for i in range(size):
            proof = inclusion_proof(STORE, i, size)
            for j in range(size):
                assert verify_inclusion(i, size, LEAVES[j], proof, rt) == (i == j)


# --------------------------------------------------------------------------------------------
# Incremental structure and node stores
# --------------------------------------------------------------------------------------------


def test_append_returns_exactly_the_nodes_a_store_must_insert() -> None:
    cr, filled = CompactRange(), MemoryNodeStore()
    for i, leaf in enumerate(LEAVES):
        done = cr.append(leaf)
        assert len(done) == 1 + ((i + 1) & -(i + 1)).bit_length() - 1  # 1 + trailing ones of i
        filled.add_nodes(i, done)
    ids = [(lv, k) for lv in range(8) for k in range(len(LEAVES) >> lv)]
    assert filled.get_nodes(ids) == STORE.get_nodes(ids)
    assert cr.hashes == tuple(STORE.get_nodes(perfect_subtrees(0, len(LEAVES))))
    with pytest.raises(AuditTreeError, match="expected leaf"):
        filled.add_nodes(5, [LEAVES[5]])


def test_resume_from_stored_frontier_then_keep_appending() -> None:
    for start in (0, 1, 6, 31, 32, 45):
        cr = compact_range(STORE, start)
        assert len(cr.hashes) == start.bit_count()
        for n in range(start, start + 20):
            cr.append(LEAVES[n])
            assert cr.root() == naive_mth(0, n + 1)


def test_compact_range_refuses_bad_state() -> None:
    with pytest.raises(AuditTreeError, match="3 frontier nodes"):
        CompactRange(7, [SOME_HASH])
    with pytest.raises(AuditTreeError):
        CompactRange(-1, [])
    with pytest.raises(AuditTreeError):
        CompactRange(1, [b"short"])
    cr = CompactRange()
    for bad in (b"", b"x" * 33, "a" * 32, bytearray(32), None):
        with pytest.raises(AuditTreeError):
            cr.append(bad)  # type: ignore[arg-type]
    assert cr.size == 0
    full = CompactRange(MAX_TREE_SIZE, [SOME_HASH] * 64)
    with pytest.raises(AuditTreeError, match="full"):
        full.append(SOME_HASH)
    with pytest.raises(AuditTreeError):
        root([SOME_HASH, b"short"])


def test_perfect_subtrees_follow_the_bits_of_the_width() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_subtrees(64, 95) == [(4, 4), (3, 10), (2, 22), (1, 46), (0, 94)]
    with pytest.raises(AuditTreeError, match="aligned"):
        perfect_subtrees(1, 3)  # [1, 3) is MTH-able but no stored node covers [1, 3)
    with pytest.raises(AuditTreeError):
        perfect_subtrees(5, 4)


class CountingStore:
    """Counts round trips and nodes, to hold proofs to O(log n) reads."""

    def __init__(self, inner: MemoryNodeStore) -> None:
        self.inner, self.calls, self.nodes = inner, 0, 0

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        self.calls += 1
        self.nodes += len(ids)
        return self.inner.get_nodes(ids)


def test_proofs_read_few_nodes_in_one_batch() -> None:
    leaves = (leaf_hash(b"%d" % i) for i in range(3000))
    store = CountingStore(MemoryNodeStore.from_leaf_hashes(leaves))
    size, bound = 2999, 2 * (2999).bit_length()
    rt = root_at(store, size)
    for index in (0, 1, 1500, 2047, 2048, 2998):
        store.calls = store.nodes = 0
        proof = inclusion_proof(store, index, size)
        assert store.calls == 1 and store.nodes <= bound
        assert verify_inclusion(index, size, leaf_hash(b"%d" % index), proof, rt)
    for size1 in (1, 2, 1000, 2048, 2998):
        store.calls = store.nodes = 0
        proof = consistency_proof(store, size1, size)
        assert store.calls == 1 and store.nodes <= bound
        assert verify_consistency(size1, size, root_at(store, size1), rt, proof)


class UniformStore:
    """A store of a virtual tree whose leaves are all equal: every node of a level has the
    same hash, so trees of up to 2**64 - 1 leaves can be proved without building them."""

    def __init__(self, size: int) -> None:
        self.size, self.level = size, [leaf_hash(b"same")]
        for _ in range(64):
            self.level.append(node_hash(self.level[-1], self.level[-1]))

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        for level, index in ids:
            if not 0 <= index < self.size >> level:
                raise KeyError((level, index))
        return [self.level[level] for level, _ in ids]


@pytest.mark.parametrize("size", [2**40 + 12345, 2**63, MAX_TREE_SIZE])
def test_huge_trees_prove_with_uint64_sizes(size: int) -> None:
    store = UniformStore(size)
    rt, leaf = root_at(store, size), store.level[0]
    for index in (0, size // 3, size - 2, size - 1):
        proof = inclusion_proof(store, index, size)
        assert len(proof) <= 64
        assert verify_inclusion(index, size, leaf, proof, rt)
        assert not verify_inclusion(index, size, leaf, proof[:-1], rt)
    for size1 in (1, 2**32, size // 2 + 1, size - 1):
        proof = consistency_proof(store, size1, size)
        assert verify_consistency(size1, size, root_at(store, size1), rt, proof)
        assert not verify_consistency(size1, size, rt, rt, proof)


def test_store_refuses_what_it_does_not_hold() -> None:
    with pytest.raises(LookupError):
        inclusion_proof(CT_STORE, 3, 9)  # the store holds 8 leaves
    with pytest.raises(LookupError):
        root_at(CT_STORE, 9)
    with pytest.raises(KeyError):
        CT_STORE.get_nodes([(0, -1)])  # not Python's "last element"
    with pytest.raises(KeyError):
        CT_STORE.get_nodes([(9, 0)])

    class Short:
        def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
            return []

    with pytest.raises(LookupError, match="wrong number"):
        range_hashes(Short(), [(0, 4)])


# --------------------------------------------------------------------------------------------
# Malformed input: generation raises AuditTreeError (a ValueError); verification says False
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: inclusion_proof(CT_STORE, 8, 8), "index"),
        (lambda: inclusion_proof(CT_STORE, -1, 8), "index"),
        (lambda: inclusion_proof(CT_STORE, 0, 0), "index"),
        (lambda: inclusion_proof(CT_STORE, 0, MAX_TREE_SIZE + 1), "size"),
        (lambda: inclusion_proof(CT_STORE, True, 8), "index"),
        (lambda: consistency_proof(CT_STORE, 5, 4), "size1"),
        (lambda: consistency_proof(CT_STORE, -1, 4), "size1"),
        (lambda: consistency_proof(CT_STORE, 1, 2.0), "size2"),  # type: ignore[arg-type]
        (lambda: root_at(CT_STORE, -3), "size"),
        (lambda: compact_range(CT_STORE, -3), "size"),
    ],
)
def test_impossible_requests_raise_a_value_error(call: Callable[[], object], field: str) -> None:
    with pytest.raises(AuditTreeError) as info:
        call()
    assert isinstance(info.value, VaultValueError) and isinstance(info.value, ValueError)
    assert info.value.field == field


BAD_SIZES: list[object] = [-1, -(2**70), MAX_TREE_SIZE + 1, 2**200, True, False, 1.0, "3", None]
BAD_HASHES: list[object] = [b"", b"\x00" * 31, b"\x00" * 33, "0" * 32, bytearray(32), None, 0]
BAD_PROOFS: list[object] = [None, b"\x00" * 32, "abc", 7, {SOME_HASH}, [None], [b"short"], [1]]


def test_verifiers_say_false_and_never_raise_on_malformed_input() -> None:
    index, size = 5, 8
    proof = inclusion_proof(CT_STORE, index, size)
    leaf, rt = CT_LEAVES[index], H(CT_ROOTS[size - 1])
    assert verify_inclusion(index, size, leaf, proof, rt)
    assert verify_inclusion(index, size, leaf, tuple(proof), rt)  # any list or tuple
    args: list[object] = [index, size, leaf, proof, rt]
    for position, bads in [(0, BAD_SIZES), (1, BAD_SIZES), (2, BAD_HASHES), (3, BAD_PROOFS), (4, BAD_HASHES)]:
        for bad in bads:
            spoiled = [*args[:position], bad, *args[position + 1 :]]
            assert verify_inclusion(*spoiled) is False, (position, bad)  # type: ignore[arg-type]

    c = consistency_proof(CT_STORE, 6, 8)
    r1 = H(CT_ROOTS[5])
    cargs: list[object] = [6, 8, r1, rt, c]
    assert verify_consistency(*cargs)  # type: ignore[arg-type]
    for position, bads in [(0, BAD_SIZES), (1, BAD_SIZES), (2, BAD_HASHES), (3, BAD_HASHES), (4, BAD_PROOFS)]:
        for bad in bads:
            spoiled = [*cargs[:position], bad, *cargs[position + 1 :]]
            assert verify_consistency(*spoiled) is False, (position, bad)  # type: ignore[arg-type]
    # Power-of-two size1: the proof's first element is the old root's sibling, not the root.
    c4 = consistency_proof(CT_STORE, 4, 8)
    assert verify_consistency(4, 8, H(CT_ROOTS[3]), rt, c4)
    assert not verify_consistency(4, 8, H(CT_ROOTS[3]), rt, [b"short", *c4[1:]])


class CountingProof(list[bytes]):
    """A proof that counts how many of its elements a verifier reads."""

    read = 0

    def __iter__(self) -> Iterator[bytes]:
        for item in super().__iter__():
            self.read += 1
            yield item


def test_hostile_giant_proofs_are_refused_cheaply() -> None:
    # The RFC stops as soon as the path has climbed to the root (sn == 0): a verifier must not
    # hash a million elements first.
    giant = CountingProof([SOME_HASH] * 1_000_000)
    assert not verify_inclusion(0, 8, CT_LEAVES[0], giant, H(CT_ROOTS[7]))
    assert giant.read <= 4
    giant.read = 0
    assert not verify_consistency(3, 8, H(CT_ROOTS[2]), H(CT_ROOTS[7]), giant)
    assert giant.read <= 5
    assert not verify_inclusion(0, 8, CT_LEAVES[0], giant, H(CT_ROOTS[7]))
    assert not verify_consistency(3, 8, H(CT_ROOTS[2]), H(CT_ROOTS[7]), giant)
    assert not verify_consistency(4, 8, H(CT_ROOTS[3]), H(CT_ROOTS[7]), giant)
