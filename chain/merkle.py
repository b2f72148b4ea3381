"""Merkle trees over 32-byte credential hashes, matching ``CredentialRegistry``.

Convention (the contract's ``_processProof`` and OpenZeppelin's ``MerkleProof``):
a parent is ``keccak256(min(a, b) || max(a, b))``, so proofs carry no left/right flags;
levels pair nodes (0,1), (2,3), ...; an odd last node is promoted unchanged; a single
leaf is its own root with an empty proof.

Because pairs are sorted, a 32-byte inner node could also be presented as a "leaf" with a
shorter proof. Leaves here are hashes of whole credential documents, which are never 64-byte
preimages of inner nodes, so that second-preimage trick yields no credential.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_hash.auto import keccak

HASH_LEN = 32


def _check(leaf: bytes, what: str = "leaf") -> bytes:
    if not isinstance(leaf, (bytes, bytearray)) or len(leaf) != HASH_LEN:
        raise ValueError(f"{what} must be {HASH_LEN} bytes")
    return bytes(leaf)


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a < b else b + a)


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """All levels, leaves first, root last."""
    if len(leaves) == 0:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = [_check(leaf) for leaf in leaves]
    levels = [level]
    while len(level) > 1:
        nxt = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root of ``leaves`` (in the given order); a single leaf is its own root."""
    return _levels(leaves)[-1][0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling hashes from leaf ``index`` up to the root (promoted levels add nothing)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"index {index} out of range for {len(leaves)} leaves")
    return proof_from_levels(_levels(leaves), index)


def merkle_proof_all(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Proofs for every leaf, building the tree once (batch anchoring needs all of them)."""
    levels = _levels(leaves)
    return [proof_from_levels(levels, i) for i in range(len(leaves))]


def proof_from_levels(levels: list[list[bytes]], index: int) -> list[bytes]:
    proof: list[bytes] = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index //= 2
    return proof


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by ``leaf`` and ``proof`` (what the contract computes)."""
    node = _check(leaf)
    for sibling in proof:
        node = hash_pair(node, _check(sibling, "proof element"))
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    return process_proof(leaf, proof) == _check(root, "root")
