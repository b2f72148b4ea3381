"""JOSE keys for the vault's secp256k1 keys (ES256K, RFC 8812).

Departments sign anchored roots with their chain key; the same key signs the standard
credentials exported for other systems, so a verifier can tie a JWK to the department the
registry names on chain: the key's Ethereum address is ``kid`` and is what the registry lists.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from jwcrypto import jwk

from keys import address_of_public_key
from vault.errors import VaultValueError

ALG = "ES256K"
CURVE = "secp256k1"
# base64url without padding (RFC 7515 §2): a key member has one spelling, so what a
# credential's cnf copies is exactly the key that was checked.
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict base64url: no padding, no other characters, no stray bits; ValueError otherwise."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # unused low bits set: another spelling of the same bytes
        raise ValueError("not canonical base64url")
    return data


def private_jwk(account: LocalAccount) -> jwk.JWK:
    """``account``'s key as a signing JWK, ``kid`` its address."""
    key = ec.derive_private_key(int.from_bytes(bytes(account.key), "big"), ec.SECP256K1())
    found = jwk.JWK.from_pyca(key)
    found.update(kid=to_checksum_address(account.address), alg=ALG, use="sig")
    return found


def public_jwk(account: LocalAccount) -> dict[str, Any]:
    """The public half of :func:`private_jwk`, as a JSON object."""
    exported: dict[str, Any] = private_jwk(account).export_public(as_dict=True)
    return exported


def jwk_of_public_key(public_key: bytes) -> dict[str, Any]:
    """The JWK of an uncompressed secp256k1 public key (64 bytes, or 65 with the 0x04 prefix)."""
    raw = public_key[1:] if len(public_key) == 65 and public_key[0] == 4 else public_key
    if len(raw) != 64:
        raise VaultValueError("a public key is 64 bytes (x and y), or 65 with the 0x04 prefix", field="public_key")
    try:
        ec.EllipticCurvePublicNumbers(
            int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"), ec.SECP256K1()
        ).public_key()
    except ValueError:
        raise VaultValueError("not a point on secp256k1", field="public_key") from None
    return {"kty": "EC", "crv": CURVE, "x": _b64(raw[:32]), "y": _b64(raw[32:])}


def _point(key: dict[str, Any]) -> tuple[bytes, bytes]:
    if not isinstance(key, dict) or key.get("kty") != "EC" or key.get("crv") != CURVE:
        raise VaultValueError("the key must be an EC secp256k1 JWK", field="jwk")
    x, y = key.get("x"), key.get("y")
    try:
        if not isinstance(x, str) or not isinstance(y, str):
            raise ValueError("not a string")
        raw_x, raw_y = _unb64(x), _unb64(y)
    except ValueError:
        raise VaultValueError("the JWK's x and y must be base64url without padding (RFC 7515)", field="jwk") from None
    if len(raw_x) != 32 or len(raw_y) != 32:
        raise VaultValueError("the JWK's x and y must be 32 bytes each", field="jwk")
    jwk_of_public_key(raw_x + raw_y)  # on the curve
    return raw_x, raw_y


def canonical_jwk(key: dict[str, Any]) -> dict[str, Any]:
    """Only the public members of a secp256k1 JWK (kty, crv, x, y), checked; VaultValueError otherwise.

    Anything else the key carried (a private ``d`` sent by mistake, ``kid``, extensions)
    is left out, so nothing unchecked ends up in a signed ``cnf``."""
    x, y = _point(key)
    return {"kty": "EC", "crv": CURVE, "x": _b64(x), "y": _b64(y)}


def address_of_jwk(key: dict[str, Any]) -> str:
    """The Ethereum address of a secp256k1 JWK; VaultValueError for any other key."""
    return address_of_public_key(*_point(key))
