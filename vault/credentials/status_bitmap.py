"""The revocation bitmap of status snapshots: one bit per status index, set if revoked.

Bits are ordered as in the W3C Bitstring Status List: index ``i`` is byte ``i // 8``, mask
``0x80 >> (i % 8)`` (the first index is the most significant bit of the first byte). The
bitmap is exactly ``ceil(size / 8)`` bytes and the bits past ``size`` are zero, so that one
list of revoked indexes has one bitmap, and so one hash.

On the wire it is zlib-compressed (level 9) and then base64url without padding, like W3C's
``encodedList`` (which uses GZIP; zlib is the same DEFLATE stream with a smaller frame).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterable

# 16 MiB: 134 million credentials. A larger bitmap is refused before it is inflated, so a
# small crafted stream (a "zlib bomb") cannot make a verifier allocate gigabytes.
MAX_BYTES = 16 * 1024 * 1024
MAX_BITS = MAX_BYTES * 8
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class BitmapError(ValueError):
    """An encoded bitmap that is not one (the snapshot turns it into its own error)."""


def length(size: int) -> int:
    """Bytes of the bitmap of ``size`` bits."""
    return (size + 7) // 8


def pack(size: int, revoked: Iterable[int]) -> bytes:
    """The bitmap of ``size`` indexes with ``revoked`` set; ValueError for an index outside."""
    bits = bytearray(length(size))
    for i in revoked:
        if not 0 <= i < size:
            raise ValueError(f"status index {i} is outside the {size} handed out")
        bits[i >> 3] |= 0x80 >> (i & 7)
    return bytes(bits)


def is_set(bitmap: bytes, index: int) -> bool:
    return bool(bitmap[index >> 3] & (0x80 >> (index & 7)))


def count(bitmap: bytes) -> int:
    """How many bits are set."""
    return int.from_bytes(bitmap, "big").bit_count()


def compress(bitmap: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(bitmap, 9)).rstrip(b"=").decode("ascii")


def decompress(text: str, size: int) -> bytes:
    """The bitmap of ``size`` bits that ``text`` encodes; BitmapError for anything else."""
    if not 0 <= size <= MAX_BITS:
        raise BitmapError(f"a bitmap of {size} bits is more than the {MAX_BITS} accepted")
    # The canonical form only: no padding, no whitespace, no standard-alphabet characters.
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise BitmapError("the bitmap is not base64url without padding")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BitmapError("the bitmap is not base64url without padding") from None
    expected = length(size)
    inflater = zlib.decompressobj()
    try:
        # One byte more than expected is enough to tell "too long" without inflating the rest.
        bitmap = inflater.decompress(compressed, expected + 1)
    except zlib.error:
        raise BitmapError("the bitmap is not a zlib stream") from None
    if len(bitmap) != expected or not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise BitmapError(f"the bitmap is not one zlib stream of exactly {expected} bytes ({size} bits)")
    if size % 8 and bitmap[-1] & (0xFF >> (size % 8)):
        raise BitmapError("the bitmap has bits set past its size")
    return bitmap
