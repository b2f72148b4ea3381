"""SM2 signing keys (GB/T 32918.2) for the sm suite, through Tongsuo's compiled binding.

The vault signs with SM2 beside secp256k1, never instead: the chain's contracts check
EIP-712/secp256k1 signatures, and an SM2 signature over the same audit tree head or batch
root is what a 密评 (GB/T 39786) assessment asks for.

The digest signed is SM3(Z || M) with Z computed from the standard default user id
``1234567812345678`` (GB/T 35276 / GM/T 0009), which is what Tongsuo uses when none is set:
the GB/T 32918.5 example signature verifies here (tests/unit/keys/test_sm_vectors.py).
Signatures are the 64 bytes r || s (each 32 bytes, big-endian), the form most SM2 libraries
and JavaScript verifiers take; :func:`signature_der` gives GM/T 0009's DER SEQUENCE.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

from keys.errors import SignatureError

DEFAULT_USER_ID = b"1234567812345678"
# The order n of the SM2 recommended curve; a private key is in [1, n-2] (GB/T 32918.1 6.1).
CURVE_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
PUBLIC_KEY_SIZE = 65  # 04 || x || y
SIGNATURE_SIZE = 64


class Sm2PublicKey:
    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def from_bytes(cls, point: bytes) -> Sm2PublicKey:
        """From the uncompressed point 04 || x || y; anything else (or off the curve) is refused."""
        if len(point) != PUBLIC_KEY_SIZE or point[0] != 4:
            raise SignatureError("an SM2 public key is 65 bytes: 04 || x || y")
        try:
            return cls(ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), bytes(point)))
        except ValueError:
            raise SignatureError("not a point on the SM2 curve") from None

    @classmethod
    def from_hex(cls, text: str) -> Sm2PublicKey:
        try:
            return cls.from_bytes(bytes.fromhex(text.removeprefix("0x")))
        except ValueError:
            raise SignatureError("an SM2 public key is 130 hex digits") from None

    def to_bytes(self) -> bytes:
        point: bytes = self._key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return point

    @property
    def hex(self) -> str:
        """Uncompressed point, 130 hex digits (04 || x || y)."""
        return self.to_bytes().hex()

    def jwk(self) -> dict[str, str]:
        """A JWK-like form: kty EC with crv "SM2" (not registered with IANA; the form several SM2
        toolkits use), x and y base64url without padding."""
        point = self.to_bytes()
        return {"kty": "EC", "crv": "SM2", "x": _b64url(point[1:33]), "y": _b64url(point[33:])}

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True if ``signature`` (r || s) is this key's over ``data`` with the default user id."""
        if len(signature) != SIGNATURE_SIZE:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if not (0 < r < CURVE_ORDER and 0 < s < CURVE_ORDER):
            return False
        try:
            self._key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(hashes.SM3()))
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"Sm2PublicKey({self.hex})"


class Sm2Key:
    """A private SM2 key; its scalar never appears in repr."""

    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> Sm2Key:
        return cls(ec.generate_private_key(ec.SM2()))

    @classmethod
    def from_bytes(cls, secret: bytes) -> Sm2Key:
        """From the 32-byte big-endian private scalar."""
        value = int.from_bytes(secret, "big")
        if len(secret) != 32 or not 1 <= value <= CURVE_ORDER - 2:
            raise SignatureError("an SM2 private key is 32 bytes in [1, n-2]")
        return cls(ec.derive_private_key(value, ec.SM2()))

    def to_bytes(self) -> bytes:
        value: int = self._key.private_numbers().private_value
        return value.to_bytes(32, "big")

    @property
    def public_key(self) -> Sm2PublicKey:
        return Sm2PublicKey(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        """r || s over SM3(Z || data), Z from the default user id."""
        r, s = decode_dss_signature(self._key.sign(bytes(data), ec.ECDSA(hashes.SM3())))
        return int(r).to_bytes(32, "big") + int(s).to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"Sm2Key(public={self.public_key.hex})"


def signature_der(signature: bytes) -> bytes:
    """GM/T 0009's SM2Signature (DER SEQUENCE of r, s) of an r || s signature."""
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError("an SM2 signature is 64 bytes: r || s")
    der: bytes = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    return der


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
