"""A holder's SD-JWT VC presentation: the disclosures of the chosen claims and a key binding JWT.

Runs where the holder's key is (the phone, the CLI): the vault never holds it. The reference
implementation (``SDJWTHolder``) selects the disclosures; the key binding JWT (``typ``
``kb+jwt``) is signed here with jwcrypto because the reference holder dates it by the
system clock and signs ES256 only, and a counter's verdict must be reproducible at a given
``now`` with the holder's secp256k1 key (ES256K).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from jwcrypto import jwk, jws
from sd_jwt.holder import SDJWTHolder

from vault.errors import VaultValueError
from vault.interop import jose_keys, sd_jwt_format

KB_TYP = "kb+jwt"


def claim_names(issuance: str) -> list[str]:
    """The names of the claims an SD-JWT can disclose."""
    return sorted(d.name for d in sd_jwt_format.parse(issuance).disclosures)


def present(issuance: str, fields: Iterable[str], *, holder_key: jwk.JWK, nonce: str, aud: str, now: int) -> str:
    """``issuance`` showing only ``fields``, bound to ``nonce`` and ``aud`` by ``holder_key``."""
    shown = sorted(set(fields))
    unknown = sorted(set(shown) - set(claim_names(issuance)))
    if unknown:
        raise VaultValueError(f"the credential has no claim {', '.join(unknown)}", field="fields")
    if not nonce or not aud:
        raise VaultValueError("a key binding needs the verifier's nonce and audience", field="nonce")
    holder = SDJWTHolder(sd_jwt_format.parse(issuance).without_key_binding)
    holder.create_presentation(dict.fromkeys(shown, True))
    without_kb = str(holder.sd_jwt_presentation)
    claims = {"nonce": nonce, "aud": aud, "iat": now, "sd_hash": sd_jwt_format.sd_hash(without_kb)}
    token = jws.JWS(payload=json.dumps(claims))
    token.add_signature(holder_key, alg=jose_keys.ALG, protected=json.dumps({"alg": jose_keys.ALG, "typ": KB_TYP}))
    return without_kb + str(token.serialize(compact=True))
