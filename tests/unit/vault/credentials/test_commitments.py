from __future__ import annotations

import itertools
import secrets

import pytest
from eth_hash.auto import keccak

from chain.merkle import hash_pair
from vault.credentials import commitments
from vault.errors import VaultValueError


def leaves(n: int) -> list[bytes]:
    return [secrets.token_bytes(32) for _ in range(n)]


@pytest.mark.parametrize("n", [2, 4, 8])
def test_every_subset_proves_the_root_and_nothing_else_does(n: int) -> None:
    tree = leaves(n)
    root = commitments.root(tree)
    for size in range(1, n + 1):
        for shown in itertools.combinations(range(n), size):
            proof = commitments.multiproof(tree, shown)
            disclosed = {i: tree[i] for i in shown}
            assert commitments.root_from_multiproof(n, disclosed, proof) == root
            # A changed leaf, a moved leaf, a missing or extra proof node: a different root or none.
            first = shown[0]
            assert commitments.root_from_multiproof(n, {**disclosed, first: secrets.token_bytes(32)}, proof) != root
            assert commitments.root_from_multiproof(n, disclosed, [*proof, secrets.token_bytes(32)]) is None
            if proof:
                assert commitments.root_from_multiproof(n, disclosed, proof[:-1]) is None
            if size < n:
                moved = next(i for i in range(n) if i not in shown)
                swapped = {**{i: v for i, v in disclosed.items() if i != first}, moved: tree[first]}
                assert commitments.root_from_multiproof(n, swapped, proof) != root


def test_shared_upper_nodes_make_the_proof_smaller() -> None:
    tree = leaves(16)
    assert len(commitments.multiproof(tree, [0])) == 4
    assert len(commitments.multiproof(tree, [0, 1, 2, 3])) == 2
    assert len(commitments.multiproof(tree, list(range(16)))) == 0


def test_nodes_differ_from_the_batch_tree_and_from_leaves() -> None:
    a, b = leaves(2)
    # The on-chain batch tree hashes sorted pairs with no prefix: a credential's inner node can
    # never pass for a batch node over the same children, nor for a field leaf.
    assert commitments.node(a, b) != hash_pair(a, b)
    assert commitments.node(a, b) != keccak(b"\x00" + a + b)
    assert commitments.node(a, b) != commitments.node(b, a)  # ordered: positions matter


def test_bad_shapes() -> None:
    with pytest.raises(VaultValueError):
        commitments.root(leaves(3))
    with pytest.raises(VaultValueError):
        commitments.field_leaf("a", 1, b"short")
    assert commitments.root_from_multiproof(3, {0: b"x" * 32}, []) is None
    assert commitments.root_from_multiproof(4, {}, []) is None
    assert commitments.root_from_multiproof(4, {4: b"x" * 32}, []) is None
    assert commitments.root_from_multiproof(4, {0: b"x" * 32}, [b"short", b"y" * 32]) is None
    assert (
        commitments.leaf_count_for(1) == 2 and commitments.leaf_count_for(5) == 8 and commitments.leaf_count_for(8) == 8
    )
