"""JWS compact serialisation (RFC 7515) of JSON payloads, signed ES256K with a vault key.

The W3C VCs (vc-jose-cose) and both status lists are JSON signed this way; jwcrypto does the
JOSE work, this module only fixes how the payload becomes bytes: compact UTF-8 JSON, names
and values as they are (no ASCII escapes), so the claims read the same in any decoder.
"""

from __future__ import annotations

import json
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from jwcrypto import jws

from vault.interop import jose_keys


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(account: LocalAccount, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """``payload`` signed by ``account`` under the protected ``header`` (``alg`` and ``kid``
    are set here: ES256K and the account's address, the ``kid`` of its published JWK)."""
    key = jose_keys.private_jwk(account)
    protected = {**header, "alg": jose_keys.ALG, "kid": to_checksum_address(account.address)}
    token = jws.JWS(payload_bytes(payload))
    token.add_signature(key, alg=jose_keys.ALG, protected=json.dumps(protected, separators=(",", ":")))
    compact: str = token.serialize(compact=True)
    return compact
