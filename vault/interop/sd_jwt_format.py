"""The pieces of an SD-JWT in compact form: ``<issuer JWT>~<disclosure>~...~<KB-JWT or nothing>``.

Parsing for the holder (which disclosure names which claim) and the verifier (the digests the
issuer signed, the hash the key binding covers). Signatures are checked elsewhere, by the
reference implementation and jwcrypto; here nothing is trusted, and anything malformed is a
``VaultValueError``, never another exception: the text comes from anyone's phone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pydantic_core

from vault.errors import VaultValueError

SEPARATOR = "~"
# Far above a real credential (a few KB), far below what would hurt to parse.
MAX_CHARS = 64 * 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Disclosure:
    encoded: str  # as it travels: base64url of the JSON array
    salt: str
    name: str
    value: Any

    @property
    def digest(self) -> str:
        return digest(self.encoded)


@dataclass(frozen=True)
class SdJwt:
    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]
    key_binding: str  # "" when none

    @property
    def without_key_binding(self) -> str:
        """What a key binding JWT's ``sd_hash`` covers: everything up to and with the last ``~``."""
        return SEPARATOR.join((self.issuer_jwt, *(d.encoded for d in self.disclosures), ""))

    def header(self) -> dict[str, Any]:
        """The issuer JWT's protected header, unverified."""
        return _object(self.issuer_jwt, 0)

    def payload(self) -> dict[str, Any]:
        """The issuer JWT's claims, unverified."""
        return _object(self.issuer_jwt, 1)


def looks_like(text: str) -> bool:
    """Whether ``text`` has the shape of an SD-JWT (a JWT, then ``~``)."""
    head = text.strip().split(SEPARATOR, 1)[0]
    return SEPARATOR in text and _JWT.fullmatch(head) is not None


def digest(encoded: str) -> str:
    """A disclosure's digest as the issuer lists it in ``_sd`` (sha-256, base64url)."""
    return _b64(hashlib.sha256(encoded.encode("ascii")).digest())


def sd_hash(text: str) -> str:
    return digest(text)


def parse(text: str) -> SdJwt:
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        raise VaultValueError(f"not an SD-JWT: expected text of at most {MAX_CHARS} characters", field="text")
    parts = text.strip().split(SEPARATOR)
    if len(parts) < 2 or _JWT.fullmatch(parts[0]) is None:
        raise VaultValueError("not an SD-JWT: expected <JWT>~<disclosures>~<key binding JWT>", field="text")
    kb = parts[-1]
    if kb and _JWT.fullmatch(kb) is None:
        raise VaultValueError("not an SD-JWT: the part after the last ~ is not a JWT", field="text")
    # Every JSON part read here first, at bounded depth, before jwcrypto or sd_jwt see it.
    for jwt in (parts[0], kb) if kb else (parts[0],):
        _object(jwt, 0)
        _object(jwt, 1)
    return SdJwt(parts[0], tuple(_disclosure(p) for p in parts[1:-1]), kb)


def _disclosure(encoded: str) -> Disclosure:
    if not encoded or _B64URL.fullmatch(encoded) is None:
        raise VaultValueError("not an SD-JWT: a disclosure is empty or not base64url", field="text")
    data = _json(_unb64(encoded), "a disclosure")
    # Object properties only (salt, name, value): the vault discloses no array elements.
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[0], str) and isinstance(data[1], str)):
        raise VaultValueError("not an SD-JWT: a disclosure is not [salt, name, value]", field="text")
    return Disclosure(encoded, data[0], data[1], data[2])


def _object(jwt: str, part: int) -> dict[str, Any]:
    what = ("header", "payload")[part]
    found = _json(_unb64(jwt.split(".")[part]), f"a JWT's {what}")
    if not isinstance(found, dict):
        raise VaultValueError(f"not an SD-JWT: a JWT's {what} is not a JSON object", field="text")
    return found


def _json(raw: bytes, what: str) -> Any:
    # Not json.loads: py_ecc (under eth_account) lifts the recursion limit, and the stdlib
    # parser then overflows the C stack on "[[[[..."; this one stops at depth 200.
    try:
        return pydantic_core.from_json(raw)
    except ValueError:
        raise VaultValueError(f"not an SD-JWT: {what} is not JSON in UTF-8", field="text") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise VaultValueError("not an SD-JWT: a part is not base64url", field="text") from None
