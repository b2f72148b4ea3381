"""The standard form of a presentation: a CWT (RFC 8392) in a COSE_Sign1 (RFC 9052), signed by
the holder with ES256K (RFC 8812), as ``DC1:`` + Base45 (RFC 9285) of its zlib, as the EU
Digital COVID Certificate's ``HC1:`` is made. ``DV1:`` (``codec``) stays the compact form;
this one is for verifiers that already read COSE/CWT.

The prefix: ``DC1`` is "datavault, COSE, version 1". It is neither ``DV1:`` (whose payload
starts with a flag byte, not zlib) nor ``HC1:`` (the EU DCC's: its verifiers would look for
an issuer's DSC and a health certificate claim, neither of which is here). ``:`` and the
capitals are in the QR alphanumeric alphabet, as Base45 is.

What is signed (protected header ``{1: -47}``, nothing unprotected, the COSE_Sign1 tag 18 as
HC1 has it, no CWT tag 61):
- ``iss`` (1): the issuer's identifier (``vault.interop.urls.issuer_id`` at the vault's
  public URL), or its code when no public URL was at hand;
  ``sub`` (2): the holder's address; ``iat`` (6), ``exp`` (4): the presentation's creation
  and expiry; ``cti`` (7): the nonce (the counter's challenge);
- ``cnf`` (8, RFC 8747): ``{1: COSE_Key}``, the holder's public key. A COSE reader checks
  the signature with it; trusting it is the registry's business: its address must be the
  key the consent registry lists for the subject (online) or the credential names (offline);
- claim -65537 (private use): the DV1 array without what the claims above carry (nonce,
  times, the EIP-712 signature): version, header, header position and salt, leaf count,
  shown fields with their salts, field proof, batch proof, issuer's batch signature,
  credential hash. So every check DV1 gets, this gets.

Which ``iss`` a counter accepts (``check_iss``): the holder signs the CWT, so ``iss`` is the
holder's to choose, and a COSE reader that resolves it would go where the holder chose. So it
must be the issuer's bare code (no URL to follow) or exactly the identifier the counter itself
derives from the vault's public URL: online the API passes it in (the URL it serves the
issuers' metadata at); offline ``datavault check --offline`` takes it from ``--public-url``
(default: the settings' public URL, else ``--api``), and without one accepts the bare code
only. ``decode`` alone checks no more than the shape (a URL ending in ``/<code>``).

The deployment is bound as DV1's EIP-712 domain binds it: the COSE ``external_aad`` is
``cbor([name, version, chain id, registry address])`` of the credential domain, never sent.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cwt import COSE, COSEKey
from cwt.cose_key_interface import COSEKeyInterface
from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex

from keys import address_of_public_key
from vault.errors import VaultValueError
from vault.presentations import base45
from vault.presentations import codec as presentation_codec
from vault.presentations.base45 import Base45Error
from vault.presentations.codec import MAX_TEXT_CHARS, PresentationFormatError, inflate
from vault.presentations.cose_wire import COSE_SIGN1_TAG, Bad, bad, cbor
from vault.presentations.model import CredentialDomain, Presentation

PREFIX = "DC1:"
ALG_ES256K = -47
PRESENTATION_CLAIM = -65537  # the first private-use claim key (RFC 8392, section 9.1)
ISS, SUB, EXP, IAT, CTI, CNF = 1, 2, 4, 6, 7, 8
COSE_KEY = 1  # cnf's confirmation method: a COSE_Key
_PROTECTED = cbor2.dumps({1: ALG_ES256K})
_CLAIMS = {ISS, SUB, EXP, IAT, CTI, CNF, PRESENTATION_CLAIM}
# The DV1 array's places of what the CWT claims carry instead: nonce, created, expires, holder signature.
_NONCE, _HOLDER_SIGNATURE = 9, 12


@dataclass(frozen=True)
class CosePresentation(Presentation):
    """A presentation read from (or made for) ``DC1:``: the presentation, and the COSE parts
    as signed, kept as bytes so that nothing is re-encoded between signing and checking."""

    payload: bytes = b""  # the CWT claims, CBOR
    cose_signature: bytes = b""  # r || s, 64 bytes; empty until the holder signed
    holder_x: bytes = b""
    holder_y: bytes = b""
    issuer_id: str = ""

    def message(self) -> bytes:
        """The COSE_Sign1, tagged, as the QR code carries it (zlib'd)."""
        return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [_PROTECTED, {}, self.payload, self.cose_signature]))

    def text(self) -> str:
        text = PREFIX + base45.encode(zlib.compress(self.message(), 9))
        if len(text) > MAX_TEXT_CHARS:
            raise PresentationFormatError(f"payload too large: {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
        return text

    def to_be_signed(self, domain: CredentialDomain) -> bytes:
        """RFC 9052 Sig_structure: what the holder's ES256K key signs (SHA-256, then ECDSA)."""
        return cbor2.dumps(["Signature1", _PROTECTED, external_aad(domain), self.payload])

    def holder_key(self) -> COSEKeyInterface:
        return COSEKey.new({1: 2, 3: ALG_ES256K, -1: 8, -2: self.holder_x, -3: self.holder_y})

    def signer(self, domain: CredentialDomain) -> str | None:
        """The address of the ``cnf`` key when the COSE signature verifies with it, else None."""
        if len(self.cose_signature) != 64:
            return None
        try:
            COSE.new().decode(self.message(), keys=[self.holder_key()], external_aad=external_aad(domain))
        except Exception:  # cwt raises VerifyError, DecodeError, ValueError: all mean "not signed by it"
            return None
        return address_of_public_key(self.holder_x, self.holder_y)

    def with_signature(self, signature: bytes) -> CosePresentation:
        return replace(self, cose_signature=signature)


def point_of_jwk(jwk: Any) -> bytes:
    """x and y (64 bytes) of an EC secp256k1 JWK; VaultValueError for anything else."""
    try:
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "secp256k1":
            raise ValueError("not an EC secp256k1 key")
        params = COSEKey.from_jwk({k: jwk[k] for k in ("kty", "crv", "x", "y")}).to_dict()
        point = bytes(params[-2]) + bytes(params[-3])
    except Exception:  # cwt raises ValueError, KeyError, DecodeError for a malformed JWK
        raise VaultValueError("public_key must be an EC secp256k1 JWK (kty, crv, x, y)", field="public_key") from None
    _on_curve(point)
    return point


def _on_curve(point: bytes) -> None:
    if len(point) != 64:
        raise VaultValueError("a public key is 64 bytes (x and y)", field="public_key")
    try:
        x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
        ec.EllipticCurvePublicNumbers(x, y, ec.SECP256K1()).public_key()
    except ValueError:
        raise VaultValueError("not a point on secp256k1", field="public_key") from None


def external_aad(domain: CredentialDomain) -> bytes:
    d = domain.as_dict()
    return cbor2.dumps([d["name"], d["version"], domain.chain_id, decode_hex(domain.registry)])


def unsigned(p: Presentation, *, issuer_id: str, holder_key: bytes) -> CosePresentation:
    """``p`` as a CWT for the holder to sign; ``holder_key`` is 64 bytes (x, y)."""
    _on_curve(holder_key)
    x, y = holder_key[:32], holder_key[32:]
    array = presentation_codec.to_array(p)
    body = array[:_NONCE] + array[_HOLDER_SIGNATURE + 1 :]
    claims = {
        ISS: issuer_id,
        SUB: to_checksum_address(p.header.holder),
        EXP: p.expires_at,
        IAT: p.created_at,
        CTI: p.nonce,
        CNF: {COSE_KEY: {1: 2, -1: 8, -2: x, -3: y}},
        PRESENTATION_CLAIM: body,
    }
    cose = _presentation(p, cbor2.dumps(claims, canonical=True), b"", x, y, issuer_id)
    decode(cose.text())  # what decode would refuse is never handed out
    return cose


def sign(unsigned_text: str, private_jwk: dict[str, Any], aad: bytes) -> bytes:
    """The holder's side (a phone, the CLI): ES256K signature of the CWT ``unsigned_text``
    holds, made by the ``cwt`` library from the payload itself, not from bytes handed over;
    ``aad`` is ``external_aad`` of the deployment's credential domain."""
    p = decode(unsigned_text)
    key = COSEKey.from_jwk({**private_jwk, "alg": "ES256K"})
    signed = COSE.new().encode_and_sign(
        p.payload, key, protected={1: ALG_ES256K}, external_aad=aad, out="cbor2/CBORTag"
    )
    signature: bytes = signed.value[3]
    return signature


def decode(text: str) -> CosePresentation:
    """The presentation in a ``DC1:`` text, its signature not checked (``signer`` does); raises
    only PresentationFormatError, checking length, inflated size, nesting, tags and every field."""
    text = text.strip() if isinstance(text, str) else ""
    if len(text) > MAX_TEXT_CHARS:
        raise PresentationFormatError(f"payload too large: {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
    if not text.startswith(PREFIX):
        raise PresentationFormatError("not a datavault COSE presentation")
    try:
        message = cbor(inflate(base45.decode(text[len(PREFIX) :])), sign1=True)
        if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
            bad("it is not a COSE_Sign1")
        parts = message.value
        if not isinstance(parts, list) or len(parts) != 4:
            bad("a COSE_Sign1 has four parts")
        protected, unprotected, payload, signature = parts
        if protected != _PROTECTED:
            bad("the protected header must say alg ES256K (-47), and only that")
        if unprotected != {}:
            bad("the unprotected header must be empty")
        if not isinstance(payload, bytes) or not isinstance(signature, bytes) or len(signature) not in (0, 64):
            bad("the payload must be bytes and the signature empty or 64 bytes")
        return _claims(payload, signature)
    except (Bad, Base45Error) as e:
        raise PresentationFormatError(f"the code is damaged: {e}") from None


def _claims(payload: bytes, signature: bytes) -> CosePresentation:
    claims = cbor(payload, sign1=False)
    if not isinstance(claims, dict) or set(claims) != _CLAIMS:
        bad("the CWT claims must be iss, sub, exp, iat, cti, cnf and the presentation, and no others")
    body = claims[PRESENTATION_CLAIM]
    if not isinstance(body, list) or len(body) != _NONCE + 1:
        bad(f"the presentation claim is not a list of {_NONCE + 1} items")
    array = [*body[:_NONCE], claims[CTI], claims[IAT], claims[EXP], b"", *body[_NONCE:]]
    p = presentation_codec.from_array(array)
    x, y = _cnf(claims[CNF])
    iss, sub = claims[ISS], claims[SUB]
    code = p.header.issuer_code
    if not isinstance(iss, str) or not (iss == code or _is_issuer_url(iss, code)):
        bad("iss names another issuer than the credential")
    if not isinstance(sub, str) or sub != to_checksum_address(p.header.holder):
        bad("sub is not the credential's holder")
    return _presentation(p, payload, signature, x, y, iss)


def check_iss(p: CosePresentation, issuer_id: Callable[[str], str] | None) -> None:
    """PresentationFormatError unless ``iss`` is the credential's issuer code or, with
    ``issuer_id`` (the vault's identifiers of issuers, by code), exactly its identifier."""
    code = p.header.issuer_code
    if p.issuer_id == code or (issuer_id is not None and p.issuer_id == issuer_id(code)):
        return
    known = f"{code!r}" + (f" or {issuer_id(code)!r}" if issuer_id is not None else "")
    raise PresentationFormatError(
        f"iss {p.issuer_id[:200]!r} is not this vault's identifier of the issuer ({known}); "
        "a code whose iss points elsewhere is refused"
        + ("" if issuer_id is not None else " (offline: give the vault's public URL to accept its URLs)")
    )


def _is_issuer_url(iss: str, code: str) -> bool:
    return iss.startswith(("https://", "http://")) and iss.endswith(f"/{code}")


def _cnf(cnf: Any) -> tuple[bytes, bytes]:
    key = cnf.get(COSE_KEY) if isinstance(cnf, dict) and len(cnf) == 1 else None
    if not isinstance(key, dict) or set(key) != {1, -1, -2, -3} or key[1] != 2 or key[-1] != 8:
        bad("cnf must hold one EC2 secp256k1 COSE_Key")
    x, y = key[-2], key[-3]
    if not isinstance(x, bytes) or not isinstance(y, bytes) or len(x) != 32 or len(y) != 32:
        bad("the cnf key's x and y must be 32 bytes each")
    try:
        _on_curve(x + y)
    except VaultValueError:
        bad("the cnf key is not a point on secp256k1")
    return x, y


def _presentation(p: Presentation, payload: bytes, signature: bytes, x: bytes, y: bytes, iss: str) -> CosePresentation:
    kept = {f.name: getattr(p, f.name) for f in dataclass_fields(Presentation)}
    return CosePresentation(**kept, payload=payload, cose_signature=signature, holder_x=x, holder_y=y, issuer_id=iss)
