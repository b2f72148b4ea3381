"""Pseudonymous subject ids: a keyed hash of the identity number.

The raw ID number (身份证号, 统一社会信用代码, ...) is never stored; the chain and the
database hold only this HMAC. Without the key the ids cannot be brute-forced from the
small space of valid ID numbers, which a plain hash would allow.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

MIN_KEY_SIZE = 16


def normalize_identifier(identifier: str) -> str:
    """Canonical form, so the same number typed differently yields the same pseudonym.

    NFKC folds full-width characters (common with Chinese input methods, e.g. "１２３Ｘ")
    to ASCII; all whitespace (including the ideographic space U+3000) is removed; the
    result is uppercased (e.g. the "x" check digit of a resident ID).
    """
    folded = unicodedata.normalize("NFKC", identifier)
    return "".join(folded.split()).upper()


def pseudonym(key: bytes, kind: str, identifier: str) -> bytes:
    """HMAC-SHA256(key, kind + ":" + normalized identifier); 32 bytes."""
    if len(key) < MIN_KEY_SIZE:
        raise ValueError(f"pseudonym key must be at least {MIN_KEY_SIZE} bytes")
    # ':' in kind would make (kind, identifier) pairs collide, e.g. ("a:b", "c") / ("a", "b:c").
    if not kind or ":" in kind:
        raise ValueError("kind must be non-empty and must not contain ':'")
    normalized = normalize_identifier(identifier)
    if not normalized:
        raise ValueError("identifier is empty")
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).digest()
