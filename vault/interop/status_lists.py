"""The revocation bitmap as the standard status lists: IETF Token Status List and W3C
Bitstring Status List, both signed ES256K by the registry's admin (the vault's operator).

Both are made from ``status_list.bitmap``, the very bitmap of the signed status snapshot, so
the three agree bit for bit and a revocation shows in all of them at once: a credential being
revoked ("revoking", not yet confirmed on chain) already counts (deny wins). One list covers
every department's credentials, because status indexes are handed out by one vault-wide
counter; that is why the operator signs it, not each issuer. Its key is published at
``urls.status_jwks`` and is the address the registry names as ``admin()``.

Bit order differs between the two standards, and the snapshot uses W3C's:
  W3C Bitstring Status List  index i is bit 7 - i % 8 of byte i // 8 (most significant first)
  IETF Token Status List     index i is bit i % 8 of byte i // 8 (least significant first)
so the IETF list is the same bytes with each byte's bits reversed.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vault.context import VaultContext
from vault.credentials import status_list
from vault.interop import compact_jws, jose_keys, urls, w3c_dates
from vault.presentations import status_snapshot

# Seconds a verifier may reuse a list before fetching it again (the routes' max-age too).
TTL = 60
# A list past this age is refused by verifiers: a revocation missed for at most 5 minutes.
LIFETIME = 300
TOKEN_TYP = "statuslist+jwt"
TOKEN_MEDIA_TYPE = "application/statuslist+jwt"
VC_TYP = "vc+jwt"
VC_MEDIA_TYPE = "application/vc+jwt"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
# Bitstring Status List v1.0: "a minimum of 131,072 bits" (16 KB), for group privacy.
MIN_BITSTRING_BYTES = 16 * 1024

_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ietf_bytes(w3c_bitmap: bytes) -> bytes:
    """The IETF status list (bits=1) of a W3C-ordered bitmap: each byte's bits reversed."""
    return w3c_bitmap.translate(_REVERSED)


def ietf_lst(w3c_bitmap: bytes) -> str:
    """The ``lst`` of a Status List Token: base64url (no padding) of the zlib (DEFLATE) stream."""
    return _b64(zlib.compress(ietf_bytes(w3c_bitmap), 9))


def encoded_list(w3c_bitmap: bytes) -> str:
    """W3C ``encodedList``: multibase base64url ("u", no padding) of the GZIP of the bitstring,
    padded with zeros to the 16 KB minimum (mtime 0, so one bitmap has one encoding)."""
    padded = w3c_bitmap.ljust(MIN_BITSTRING_BYTES, b"\0")
    return "u" + _b64(gzip.compress(padded, 9, mtime=0))


def token_claims(base_url: str, w3c_bitmap: bytes, now: int) -> dict[str, Any]:
    """The claims of the Status List Token (draft-ietf-oauth-status-list, JWT form)."""
    return {
        "sub": urls.token_status_list(base_url),
        "iss": urls.status_issuer(base_url),
        "iat": now,
        "exp": now + LIFETIME,
        "ttl": TTL,
        "status_list": {"bits": 1, "lst": ietf_lst(w3c_bitmap)},
    }


def bitstring_credential(base_url: str, w3c_bitmap: bytes, now: int) -> dict[str, Any]:
    """The BitstringStatusListCredential (W3C Bitstring Status List v1.0), unsigned."""
    url = urls.bitstring_status_list(base_url)
    return {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": urls.status_issuer(base_url),
        "validFrom": w3c_dates.xml_datetime(now),
        "validUntil": w3c_dates.xml_datetime(now + LIFETIME),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list(w3c_bitmap),
            "ttl": TTL * 1000,  # milliseconds, in this specification
        },
    }


def jwks(ctx: VaultContext) -> dict[str, Any]:
    """The JWK Set of the status lists' signer (``kid``: its address, the registry's admin)."""
    return {"keys": [jose_keys.public_jwk(ctx.chain.operator)]}


async def token_status_list(ctx: VaultContext, session: AsyncSession, base_url: str, now: int) -> str:
    """The signed Status List Token (``application/statuslist+jwt``) as of ``now``."""
    _size, bitmap = await status_list.bitmap(session)
    account = await status_snapshot.registry_signer(ctx)
    return compact_jws.sign(account, {"typ": TOKEN_TYP}, token_claims(base_url, bitmap, now))


async def bitstring_status_list(ctx: VaultContext, session: AsyncSession, base_url: str, now: int) -> str:
    """The BitstringStatusListCredential secured as vc-jose-cose (``application/vc+jwt``)."""
    _size, bitmap = await status_list.bitmap(session)
    account = await status_snapshot.registry_signer(ctx)
    return compact_jws.sign(account, {"typ": VC_TYP, "cty": "vc"}, bitstring_credential(base_url, bitmap, now))
