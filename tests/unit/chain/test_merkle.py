"""chain.merkle: the sorted-pair keccak tree the contract verifies against."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from chain.merkle import (
    hash_pair,
    merkle_proof,
    merkle_proof_all,
    merkle_root,
    process_proof,
    verify_proof,
)


def leaves(n: int) -> list[bytes]:
    return [keccak(text=f"leaf {i}") for i in range(n)]


def test_single_leaf_is_its_own_root_with_empty_proof() -> None:
    (leaf,) = leaves(1)
    assert merkle_root([leaf]) == leaf
    assert merkle_proof([leaf], 0) == []
    assert verify_proof(leaf, leaf, [])


def test_pair_is_sorted_keccak() -> None:
    a, b = sorted(leaves(2))
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(a + b)
    assert merkle_root([b, a]) == keccak(a + b)


def test_odd_last_node_is_promoted_unchanged() -> None:
    a, b, c = leaves(3)
    assert merkle_root([a, b, c]) == hash_pair(hash_pair(a, b), c)
    assert merkle_proof([a, b, c], 2) == [hash_pair(a, b)]
    five = leaves(5)
    # Level 1: ab, cd, e -> level 2: (ab,cd), e -> root.
    ab, cd = hash_pair(five[0], five[1]), hash_pair(five[2], five[3])
    assert merkle_root(five) == hash_pair(hash_pair(ab, cd), five[4])
    assert merkle_proof(five, 4) == [hash_pair(ab, cd)]


@pytest.mark.parametrize("n", range(1, 18))
def test_every_proof_verifies(n: int) -> None:
    ls = leaves(n)
    root = merkle_root(ls)
    all_proofs = merkle_proof_all(ls)
    for i, leaf in enumerate(ls):
        proof = merkle_proof(ls, i)
        assert proof == all_proofs[i]
        assert len(proof) <= max(0, (n - 1).bit_length())
        assert process_proof(leaf, proof) == root
        assert verify_proof(root, leaf, proof)
        if n > 1:
            other = ls[(i + 1) % n]
            assert not verify_proof(root, other, proof) or other == leaf


def test_tampered_proof_fails() -> None:
    ls = leaves(8)
    root = merkle_root(ls)
    proof = merkle_proof(ls, 5)
    assert not verify_proof(root, ls[5], proof[:-1])
    assert not verify_proof(root, ls[5], [*proof[:-1], keccak(b"x")])
    assert not verify_proof(keccak(b"other root"), ls[5], proof)


def test_order_of_leaves_matters() -> None:
    ls = leaves(4)
    assert merkle_root(ls) != merkle_root([ls[0], ls[2], ls[1], ls[3]])


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        merkle_root([])
    with pytest.raises(ValueError):
        merkle_proof_all([])
    with pytest.raises(ValueError):
        merkle_root([b"short"])
    with pytest.raises(ValueError):
        merkle_root([*leaves(2), b"\0" * 33])
    with pytest.raises(ValueError):
        merkle_root(["00" * 32])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        merkle_proof(leaves(3), 3)
    with pytest.raises(ValueError):
        merkle_proof(leaves(3), -1)
    with pytest.raises(ValueError):
        process_proof(leaves(1)[0], [b"\1" * 31])
    with pytest.raises(ValueError):
        verify_proof(b"\0" * 31, leaves(1)[0], [])


def test_ten_thousand_leaves_prove_the_last() -> None:
    # How fast is for bench/bulk_issue.py to say; a timed assertion here only failed on a
    # busy machine.
    ls = leaves(10_000)
    root = merkle_root(ls)
    proof = merkle_proof(ls, 9_999)
    assert len(merkle_proof(ls, 0)) == 14  # ceil(log2(10,000)); the last leaf, promoted, needs fewer
    assert verify_proof(root, ls[9_999], proof)
    assert not verify_proof(root, ls[9_998], proof)
