"""The key binding of an SD-JWT VC presentation (``kb+jwt``): who shows it, to whom, when.

Signed by the key the issuer bound the credential to (``cnf``), over exactly the disclosures
shown (``sd_hash``), for one counter (``aud``) and one nonce; checked with jwcrypto at ES256K
(the reference verifier checks key bindings as ES256 only). That key must also be the one the
consent registry lists for the credential's subject now, as for a ``DV1:`` presentation
(``vault.presentations.checks.holder_check``): once a registrar replaces a holder's key,
what the old one signs is refused, though the credential still names it in ``cnf``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwk, jws

from vault.credentials.checks import Check
from vault.errors import VaultValueError
from vault.interop import jose_keys, sd_jwt_format, sd_jwt_holder
from vault.presentations.checks import holder_check
from vault.presentations.holder import parse_nonce
from vault.presentations.model import CLOCK_SKEW, MAX_TTL


@dataclass(frozen=True)
class KeyBinding:
    check: Check
    iat: int | None = None
    nonce: bytes | None = None


def check(
    sd: sd_jwt_format.SdJwt, payload: dict[str, Any], aud: tuple[str, ...], current_key: str | None
) -> KeyBinding:
    """``current_key``: the address the registry lists for the credential's subject now
    (None when none is, or the subject is unknown because the credential does not verify)."""
    name = "holder_binding"
    if not sd.key_binding:
        return KeyBinding(Check(name, False, "no key binding JWT: anyone holding a copy could show it"))
    cnf = payload.get("cnf")
    try:
        holder = jwk.JWK(**cnf["jwk"])  # type: ignore[index]
        signer = jose_keys.address_of_jwk(cnf["jwk"])  # type: ignore[index]
        token = jws.JWS()
        token.deserialize(sd.key_binding)
        token.verify(holder, alg=jose_keys.ALG)
        header, claims = token.jose_header, json.loads(token.payload)
    except Exception:  # jwcrypto raises many kinds; all mean the same here
        return KeyBinding(Check(name, False, "the key binding is not signed by the key the credential is bound to"))
    # DV1's check and words: signed by the holder's key now, not merely the key at issuance.
    registered = holder_check(signer, current_key)
    if not registered.passed:
        return KeyBinding(Check(name, False, registered.reason))
    iat = claims.get("iat") if isinstance(claims, dict) and type(claims.get("iat")) is int else None
    try:
        nonce = parse_nonce(claims.get("nonce")) if isinstance(claims.get("nonce"), str) else None
    except VaultValueError:
        nonce = None
    if header.get("typ") != sd_jwt_holder.KB_TYP or not isinstance(claims, dict):
        return KeyBinding(Check(name, False, "the key binding JWT is not of type kb+jwt"), iat, nonce)
    if claims.get("sd_hash") != sd_jwt_format.sd_hash(sd.without_key_binding):
        return KeyBinding(
            Check(name, False, "the key binding covers other disclosures: the presentation was altered"), iat, nonce
        )
    if claims.get("aud") not in aud:
        return KeyBinding(Check(name, False, f"made for another verifier, not for {aud[0]}"), iat, nonce)
    if nonce is None:
        return KeyBinding(Check(name, False, "the nonce is not a counter's challenge (0x + 32 hex digits)"), iat)
    return KeyBinding(Check(name, True, "shown by the holder the credential is bound to, for this counter"), iat, nonce)


def fresh(iat: int | None, now: int) -> Check:
    if iat is None:
        return Check("fresh", False, "the key binding is not dated (iat)")
    if now + CLOCK_SKEW < iat:
        return Check("fresh", False, "the key binding is dated in the future; check the phone's or this device's clock")
    if now - iat >= MAX_TTL:
        return Check("fresh", False, f"the key binding is {now - iat} s old; ask the holder to show it again")
    return Check("fresh", True, f"made {max(0, now - iat)} s ago")
