"""Reading a ``DC1:`` code's bytes strictly (once ``codec.inflate`` bounded them): CBOR that
must be exactly what ``cose_qr`` writes. Hostile input is refused here, before any COSE library sees it."""

from __future__ import annotations

import io
from typing import Any, NoReturn

import cbor2

from vault.presentations.codec import MAX_DEPTH

COSE_SIGN1_TAG = 18


class Bad(Exception):
    """Why the bytes are refused; ``cose_qr`` turns it into a PresentationFormatError."""


def bad(reason: str) -> NoReturn:
    raise Bad(reason)


def cbor(data: bytes, *, sign1: bool) -> Any:
    """Strict CBOR: only what this module writes reads back. Every byte string must be the
    canonical encoding of what it decodes to (so no indefinite lengths, no duplicate map keys,
    one encoding per value), hold no tag but COSE_Sign1's, outermost, and only plain types.
    Checked by re-encoding rather than by decoder options, which differ between cbor2 5 and 6."""
    seen: list[int] = []

    def tag_hook(decoder: cbor2.CBORDecoder, tag: cbor2.CBORTag) -> cbor2.CBORTag:
        if not sign1 or tag.tag != COSE_SIGN1_TAG or seen:
            raise ValueError("tag")
        seen.append(tag.tag)
        return tag

    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream, tag_hook=tag_hook, max_depth=MAX_DEPTH).decode()
        canonical = stream.tell() == len(data) and cbor2.dumps(value, canonical=True) == data
    except Exception:
        bad("the data cannot be read (or uses a CBOR tag this format does not allow)")
    if not canonical:
        bad("the data is not in the one encoding this format writes (extra bytes, or a repeated or reordered key)")
    plain(value.value if isinstance(value, cbor2.CBORTag) else value)
    return value


def plain(value: Any) -> None:
    """No datetimes, decimals, sets, UUIDs... that cbor2 makes of the tags it knows."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif v is not None and type(v) not in (bytes, str, int, float, bool):
            bad(f"it holds a {type(v).__name__}, which this format does not carry")
