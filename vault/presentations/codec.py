"""The QR text of a presentation: ``DV1:`` + Base45(flag byte + CBOR, zlib'd if that is shorter).

The CBOR is one array with fixed positions, no map keys (a key name would cost more than most
values): [version, header (CredentialHeader field order), header_index, header_salt,
leaf_count, [[index, name, value, salt], ...], field_proof, batch_proof, issuer_signature,
nonce, created_at, expires_at, holder_signature, credential]. Header hex travels as bytes, a
canonical UUID record id as 16 bytes (other ids as text: the CBOR type tells which), each
proof as one byte string of its 32-byte hashes (2 bytes a hash less than a list), signatures
in the 64-byte EIP-2098 form. zlib rarely wins (salts, hashes and signatures are
random). Base45 is the QR alphanumeric alphabet: a quarter fewer modules than base64 in byte
mode (the EU Digital COVID Certificate's ``HC1:`` does the same).

``decode`` reads what any phone hands over: it is strict and bounded (length first, inflated
size, nesting, CBOR tags, every type and range), raises only ``PresentationFormatError`` and
checks the form only; whether proofs and signatures hold is the verifier's business.
"""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import fields as dataclass_fields
from typing import Any, NoReturn

import cbor2
from eth_utils.hexadecimal import decode_hex, encode_hex

from vault.credentials import commitments
from vault.credentials.commitments import canonical_json
from vault.credentials.header import MAX_UINT40, CredentialHeader
from vault.errors import VaultValueError
from vault.presentations import base45, cbor_scan
from vault.presentations.base45 import Base45Error
from vault.presentations.model import NONCE_LEN, PRESENTATION_VERSION, DisclosedField, Presentation

PREFIX = "DV1:"
# The most any QR code of ours holds: version 40 (177x177 modules) at level M, 3,391 alphanumeric
# characters. Longer text cannot have come from one, so it is refused before any parsing.
MAX_TEXT_CHARS = 3391
# 3,391 characters are 2,260 bytes, which zlib could inflate a thousandfold; no real one needs 64 KiB.
MAX_DECOMPRESSED = 64 * 1024
# Outer array, field list, field, then ~28 levels for a value: ample for credentials, shallow to walk.
MAX_DEPTH = 32
MAX_BATCH_PROOF = 32  # a batch of 2**32 credentials; the vault anchors thousands per root
MAX_NAME = 100  # as vault.credentials.documents.check_spec
_RAW, _ZLIB = 0, 1
_HEADER = [f.name for f in dataclass_fields(CredentialHeader)]
_HEX = {"subject": 32, "holder": 20, "issuer_address": 20}
_ITEMS = 14
_HIGH_BIT = 1 << 255
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # as str(uuid.UUID(...))


class PresentationFormatError(VaultValueError):
    """The text is not a well-formed presentation; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="presentation")


class _Bad(Exception):
    """A broken rule inside the payload; the caller says whether it was read or written."""


def _bad(reason: str) -> NoReturn:
    raise _Bad(reason)


def _refuse_tag(*_: Any) -> NoReturn:
    _bad("it uses a CBOR tag this format does not allow")


def encode(p: Presentation) -> str:
    """PresentationFormatError if ``p`` is malformed, has a high-s signature or outgrows any QR code."""
    try:
        array = _to_array(p)
        _from_array(array)  # what decode would refuse is never written
    except _Bad as e:
        raise PresentationFormatError(f"cannot encode the presentation: {e}") from None
    body = cbor2.dumps(array, canonical=True)  # canonical: shortest floats, one text per presentation
    packed = zlib.compress(body, 9)
    payload = bytes([_ZLIB]) + packed if len(packed) < len(body) else bytes([_RAW]) + body
    text = PREFIX + base45.encode(payload)
    if len(text) > MAX_TEXT_CHARS:
        raise PresentationFormatError(f"payload too large: {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
    return text


def decode(text: str) -> Presentation:
    text = text.strip() if isinstance(text, str) else ""  # Base45 never ends in a space (last digit <= 32)
    if len(text) > MAX_TEXT_CHARS:
        raise PresentationFormatError(f"payload too large: {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
    if not text.startswith(PREFIX):
        raise PresentationFormatError("not a datavault presentation")
    try:
        array = _list(_load(base45.decode(text[len(PREFIX) :])), "presentation", 99)
        if not array or type(array[0]) is not int or array[0] != PRESENTATION_VERSION:
            raise PresentationFormatError(f"unsupported presentation version {repr(array[0] if array else None)[:20]}")
        return _from_array(array)
    except (_Bad, Base45Error) as e:
        raise PresentationFormatError(f"the code is damaged: {e}") from None


def to_array(p: Presentation) -> list[Any]:
    """The CBOR array of ``p`` (as ``encode`` writes it), for forms that carry it inside their
    own envelope (``vault.presentations.cose_qr``); PresentationFormatError as ``encode``."""
    try:
        array = _to_array(p)
        _from_array(array)
    except _Bad as e:
        raise PresentationFormatError(f"cannot encode the presentation: {e}") from None
    return array


def from_array(array: Any) -> Presentation:
    """``decode``'s checks of one array read from elsewhere; PresentationFormatError as ``decode``."""
    try:
        items = _list(array, "presentation", _ITEMS, exactly=True)
        if type(items[0]) is not int or items[0] != PRESENTATION_VERSION:
            raise PresentationFormatError(f"unsupported presentation version {repr(items[0])[:20]}")
        return _from_array(items)
    except _Bad as e:
        raise PresentationFormatError(f"the code is damaged: {e}") from None


def inflate(data: bytes) -> bytes:
    """A code's zlib stream inflated, at most MAX_DECOMPRESSED bytes, so that a small stream
    cannot make a reader allocate more (a zlib bomb); PresentationFormatError otherwise."""
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(data, MAX_DECOMPRESSED + 1)
    except zlib.error:
        raise PresentationFormatError("the code is damaged: the compressed data is corrupt") from None
    if len(body) > MAX_DECOMPRESSED:
        raise PresentationFormatError(f"payload too large: more than {MAX_DECOMPRESSED} bytes once decompressed")
    if not inflater.eof or inflater.unused_data:
        raise PresentationFormatError(
            "the code is damaged: the compressed data is cut short or followed by extra bytes"
        )
    return body


def _load(payload: bytes) -> Any:
    if not payload or payload[0] not in (_RAW, _ZLIB):
        _bad("unknown compression flag")
    body = inflate(payload[1:]) if payload[0] == _ZLIB else payload[1:]
    try:
        cbor_scan.check(body, max_depth=MAX_DEPTH)
    except cbor_scan.CborRefused as e:
        _bad(str(e))
    try:
        value = cbor2.loads(body, tag_hook=_refuse_tag)
    except Exception:
        _bad("the data cannot be read")
    return value


def _to_array(p: Presentation) -> list[Any]:
    header = [
        decode_hex(v) if n in _HEX else uuid.UUID(v).bytes if n == "record_id" and _UUID.fullmatch(v) else v
        for n, v in zip(_HEADER, p.header.as_list(), strict=True)
    ]
    return [
        PRESENTATION_VERSION,
        header,
        p.header_index,
        p.header_salt,
        p.leaf_count,
        [[f.index, f.name, f.value, f.salt] for f in p.fields],
        _join(p.field_proof, "field"),
        _join(p.batch_proof, "batch"),
        _compact(p.issuer_signature, "issuer signature"),
        p.nonce,
        p.created_at,
        p.expires_at,
        _compact(p.holder_signature, "holder signature") if p.holder_signature else b"",
        p.credential,
    ]


def _from_array(a: list[Any]) -> Presentation:
    if len(a) != _ITEMS:
        _bad(f"it has {len(a)} parts, a presentation has {_ITEMS}")
    leaf_count = _int(a[4], "leaf count", 2, commitments.MAX_LEAVES)
    if leaf_count & (leaf_count - 1):
        _bad("the leaf count is not a power of two")
    header_index = _int(a[2], "header position", 0, leaf_count - 1)
    holder_signature = _bytes(a[12], "holder signature", 0, 64)
    return Presentation(
        header=_header(a[1]),
        header_index=header_index,
        header_salt=_bytes(a[3], "header salt", commitments.SALT_LEN),
        leaf_count=leaf_count,
        fields=_fields(_list(a[5], "fields", leaf_count - 1), leaf_count, header_index),
        field_proof=_hashes(a[6], "field proof", leaf_count),
        batch_proof=_hashes(a[7], "batch proof", MAX_BATCH_PROOF),
        issuer_signature=_expand(_bytes(a[8], "issuer signature", 64)),
        nonce=_bytes(a[9], "nonce", NONCE_LEN),
        created_at=_int(a[10], "creation time", 0, MAX_UINT40),
        expires_at=_int(a[11], "expiry time", 0, MAX_UINT40),
        holder_signature=_expand(holder_signature) if holder_signature else b"",
        credential=_bytes(a[13], "credential hash", 0, 32),
    )


def _header(items: Any) -> CredentialHeader:
    values: dict[str, Any] = dict(zip(_HEADER, _list(items, "header", len(_HEADER), exactly=True), strict=True))
    for name, size in _HEX.items():
        values[name] = encode_hex(_bytes(values[name], name, size))
    if isinstance(values["record_id"], bytes):
        values["record_id"] = str(uuid.UUID(bytes=_bytes(values["record_id"], "record id", 16)))
    try:
        return CredentialHeader(**values)
    except VaultValueError as e:
        _bad(e.reason)


def _fields(items: list[Any], leaf_count: int, header_index: int) -> tuple[DisclosedField, ...]:
    out: list[DisclosedField] = []
    for n, item in enumerate(items, 1):
        index, name, value, salt = _list(item, f"field {n}", 4, exactly=True)
        index = _int(index, f"field {n} position", 0, leaf_count - 1)
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or name.startswith("@"):
            _bad(f"field {n} has no valid name")  # "@header" is the header's leaf, never a field
        if index == header_index or any(index == f.index or name == f.name for f in out):
            _bad(f"field {n} repeats a position or a name")
        _json_value(value, f"field {name!r}")
        out.append(DisclosedField(index, name, value, _bytes(salt, f"field {name!r} salt", commitments.SALT_LEN)))
    return tuple(out)


def _json_value(value: Any, what: str) -> None:
    stack = [(value, 1)]  # only what JSON has and can write: the commitment hashes canonical JSON
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (list, dict)):
            if depth > MAX_DEPTH - 3:  # below the array, the field list and the field: as decode allows
                _bad(f"{what} is nested too deep")
            if isinstance(v, dict) and not all(isinstance(k, str) for k in v):
                _bad(f"{what} has an object key that is not text")
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
        elif (v is not None and type(v) not in (str, int, float, bool)) or (type(v) is float and v - v != 0):
            _bad(f"{what} holds a {type(v).__name__} JSON cannot carry")  # NaN, infinities, bytes...
    try:
        canonical_json(value)
    except (ValueError, RecursionError):  # an integer of more than 4,300 digits
        _bad(f"{what} cannot be written as JSON")


def _list(value: Any, what: str, most: int, *, exactly: bool = False) -> list[Any]:
    if not isinstance(value, list) or len(value) > most or (exactly and len(value) != most):
        _bad(f"the {what} is not a list of {'' if exactly else 'at most '}{most} items")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:  # type(): True is not a position
        _bad(f"the {what} is not a whole number from {low} to {high}")
    return value


def _bytes(value: Any, what: str, *sizes: int) -> bytes:
    if not isinstance(value, bytes) or len(value) not in sizes:
        _bad(f"the {what} is not {' or '.join(map(str, sizes))} bytes")
    return value


def _join(proof: tuple[bytes, ...], what: str) -> bytes:  # each hash checked: joined, 31 + 33 bytes look fine
    return b"".join(_bytes(h, f"{what} proof hash", commitments.HASH_LEN) for h in proof)


def _hashes(value: Any, what: str, most: int) -> tuple[bytes, ...]:
    if not isinstance(value, bytes) or len(value) % 32 or len(value) > 32 * most:
        _bad(f"the {what} is not a string of at most {most} hashes")
    return tuple(value[i : i + 32] for i in range(0, len(value), 32))


def _compact(signature: bytes, what: str) -> bytes:
    """EIP-2098: r, then s with v - 27 in its top bit, which only low-s signatures (eth_account's) leave free."""
    if not isinstance(signature, bytes) or len(signature) != 65 or signature[64] not in (27, 28):
        _bad(f"the {what} is not 65 bytes ending in v = 27 or 28")
    s = int.from_bytes(signature[32:64], "big")
    if s & _HIGH_BIT:
        _bad(f"the {what} has a high s, which the compact form cannot carry")
    return signature[:32] + ((signature[64] - 27) * _HIGH_BIT | s).to_bytes(32, "big")


def _expand(compact: bytes) -> bytes:
    vs = int.from_bytes(compact[32:], "big")
    return compact[:32] + (vs & (_HIGH_BIT - 1)).to_bytes(32, "big") + bytes([27 + (vs >> 255)])
