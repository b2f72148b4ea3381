"""A strict walk over untrusted CBOR before any decoder builds objects from it.

A presentation arrives from a stranger's QR code. Before ``cbor2`` decodes it, this walk reads
only item heads and refuses what the format never uses and an attacker would: indefinite
lengths, tags other than bignums, ``undefined`` and other simple values, map keys other than
text or byte strings, a key twice in one map, nesting deeper than ``max_depth``, lengths past
the end of the data, and bytes after the one item. It is here rather than in decoder options
because the COSE libraries (``cwt``, ``pycose``) need ``cbor2`` 5, whose decoder has none.
"""

from __future__ import annotations

import cbor2

# Bignums (tags 2 and 3): cbor2 writes integers past 64 bits with them, as the header does not.
_BIGNUM_TAGS = frozenset({2, 3})
# false, true, null, and half/single/double floats.
_SIMPLE_OK = frozenset({20, 21, 22, 25, 26, 27})


class CborRefused(ValueError):
    """The data is not CBOR this format accepts; the message says why, briefly."""


def check(data: bytes, *, max_depth: int) -> None:
    """Raises CborRefused unless ``data`` is exactly one item within the rules above."""
    end = _item(data, 0, 0, max_depth)
    if end != len(data):
        raise CborRefused("extra bytes follow the item")


def _head(data: bytes, pos: int) -> tuple[int, int, int, int]:
    """(major type, additional info, argument, position after the head)."""
    if pos >= len(data):
        raise CborRefused("the data is cut short")
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, info, pos + 1
    if info > 27:
        raise CborRefused("indefinite or reserved lengths are not allowed")
    size = 1 << (info - 24)
    if pos + 1 + size > len(data):
        raise CborRefused("the data is cut short")
    return major, info, int.from_bytes(data[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def _item(data: bytes, pos: int, depth: int, max_depth: int) -> int:
    major, info, arg, pos = _head(data, pos)
    if major in (0, 1):
        return pos
    if major in (2, 3):
        if arg > len(data) - pos:
            raise CborRefused("a string is longer than the data")
        return pos + arg
    if major in (4, 5):
        if depth + 1 > max_depth:
            raise CborRefused("nested too deep")
        # Each item takes at least one byte: a count past the data's end is refused at once.
        if arg > len(data) - pos:
            raise CborRefused("a container is longer than the data")
        if major == 4:
            for _ in range(arg):
                pos = _item(data, pos, depth + 1, max_depth)
            return pos
        seen: set[str | bytes] = set()
        for _ in range(arg):
            key_major = data[pos] >> 5 if pos < len(data) else -1
            if key_major not in (2, 3):
                raise CborRefused("map keys must be text or byte strings")
            after = _item(data, pos, depth + 1, max_depth)
            try:
                key = cbor2.loads(data[pos:after])
            except (cbor2.CBORDecodeError, ValueError):
                raise CborRefused("a map key cannot be read") from None
            if key in seen:
                raise CborRefused("a map has the same key twice")
            seen.add(key)
            pos = _item(data, after, depth + 1, max_depth)
        return pos
    if major == 6:
        if arg not in _BIGNUM_TAGS or pos >= len(data) or data[pos] >> 5 != 2:
            raise CborRefused("it uses a CBOR tag this format does not allow")
        return _item(data, pos, depth, max_depth)
    if info not in _SIMPLE_OK:
        raise CborRefused("it uses a CBOR simple value this format does not allow")
    return pos
