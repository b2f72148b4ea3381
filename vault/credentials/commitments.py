"""Per-field commitments and the Merkle tree over them (credential documents, version 2).

Each field of a credential is committed separately: ``keccak(0x00 || salt || json([name,
value]))`` with a fresh 16-byte salt, so a verifier shown some fields learns nothing of the
others, not even by guessing a likely value (it would need the salt). The header (who, whom,
when) is one more commitment, always shown. Random decoys pad the leaves to a power of two,
so a presentation does not tell how many fields stay hidden beyond that bound; the leaves are
ordered by their hash, so a field's position says nothing about its name.

The tree is the ordered kind (``keccak(0x01 || left || right)``, as RFC 9162 separates leaves
from nodes), unlike the batch tree on chain, whose sorted pairs need no positions. Proofs for
several leaves at once share their upper nodes (a multiproof): revealing three fields of a
sixteen-leaf credential costs about six hashes, not twelve.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from eth_hash.auto import keccak

from vault.errors import VaultValueError

SALT_LEN = 16
HASH_LEN = 32
HEADER_NAME = "@header"
MAX_LEAVES = 1024
_LEAF = b"\x00"
_NODE = b"\x01"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (Chinese kept as is): what every hash here covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def json_value_problem(value: Any, max_depth: int) -> str | None:
    """Why ``value`` has no canonical JSON that hashes the same everywhere, or None: a number
    that is not finite (canonical JSON has no spelling for NaN or infinity), text that is not
    valid Unicode (a lone surrogate cannot be encoded), or nesting deeper than ``max_depth``.
    Walked without recursion, since the value may be hostile."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "a number is not finite (NaN or infinity)"
        if isinstance(item, str):
            if not _encodable(item):
                return "a string is not valid Unicode (a lone surrogate)"
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not _encodable(str(key)):
                        return "a string is not valid Unicode (a lone surrogate)"
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def field_leaf(name: str, value: Any, salt: bytes) -> bytes:
    if len(salt) != SALT_LEN:
        raise VaultValueError(f"a field salt must be {SALT_LEN} bytes", field="salt")
    return keccak(_LEAF + salt + canonical_json([name, value]))


def node(left: bytes, right: bytes) -> bytes:
    return keccak(_NODE + left + right)


def leaf_count_for(commitments: int) -> int:
    """Leaves after padding ``commitments`` real leaves with decoys: the next power of two."""
    n = 2
    while n < commitments:
        n *= 2
    return n


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([node(prev[i], prev[i + 1]) for i in range(0, len(prev), 2)])
    return levels


def _check_count(count: int) -> None:
    if count < 2 or count > MAX_LEAVES or count & (count - 1):
        raise VaultValueError(f"a credential has a power of two between 2 and {MAX_LEAVES} leaves", field="leaf_count")


def root(leaves: Sequence[bytes]) -> bytes:
    _check_count(len(leaves))
    return _levels(leaves)[-1][0]


def multiproof(leaves: Sequence[bytes], indices: Sequence[int]) -> list[bytes]:
    """The nodes a verifier needs, besides the leaves at ``indices``, to rebuild the root.
    Order: level by level from the leaves up, left to right within a level."""
    _check_count(len(leaves))
    levels = _levels(leaves)
    known = set(indices)
    proof: list[bytes] = []
    for level in levels[:-1]:
        for i in sorted(known):
            if i ^ 1 not in known:
                proof.append(level[i ^ 1])
        known = {i // 2 for i in known}
    return proof


def root_from_multiproof(count: int, disclosed: Mapping[int, bytes], proof: Sequence[bytes]) -> bytes | None:
    """The root implied by the ``disclosed`` leaves (position -> leaf) and ``proof``, or None
    when they do not fit together (wrong count, positions, too few or too many proof nodes)."""
    if count < 2 or count > MAX_LEAVES or count & (count - 1) or not disclosed:
        return None
    if any(not 0 <= i < count for i in disclosed):
        return None
    nodes = dict(disclosed)
    supply = iter(proof)
    used = 0
    width = count
    while width > 1:
        parents: dict[int, bytes] = {}
        for i in sorted(nodes):
            if i % 2 and i - 1 in nodes:
                continue  # combined with its left sibling already
            sibling = nodes.get(i ^ 1)
            if sibling is None:
                sibling = next(supply, None)
                if sibling is None or len(sibling) != HASH_LEN:
                    return None
                used += 1
            left, right = (nodes[i], sibling) if i % 2 == 0 else (sibling, nodes[i])
            parents[i // 2] = node(left, right)
        nodes = parents
        width //= 2
    if used != len(proof):
        return None
    return nodes[0]
