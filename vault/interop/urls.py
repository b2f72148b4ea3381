"""Where exported credentials point: issuers' identifiers and metadata, and the status lists.

Every URL an exported credential carries is made here from the vault's public base URL
(``Settings.public_url``, else the request's), so the routes that serve them and the
credentials that name them cannot drift apart.
"""

from __future__ import annotations

ISSUERS_PATH = "/issuers"
WELL_KNOWN_ISSUER = "/.well-known/jwt-vc-issuer"
# IETF Token Status List (a JWT, application/statuslist+jwt), for SD-JWT VCs.
TOKEN_STATUS_LIST_PATH = "/status/token-list"
# W3C Bitstring Status List credential (vc-jose-cose), for W3C VCs.
BITSTRING_STATUS_LIST_PATH = "/status/bitstring-list"
# The status lists' signer: the registry's admin (the operator), its JWK Set here.
STATUS_PATH = "/status"
STATUS_JWKS_PATH = "/status/jwks.json"


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def issuer_id(base_url: str, code: str) -> str:
    return f"{_base(base_url)}{ISSUERS_PATH}/{code}"


def issuer_metadata(base_url: str, code: str) -> str:
    return f"{_base(base_url)}{WELL_KNOWN_ISSUER}{ISSUERS_PATH}/{code}"


def issuer_jwks(base_url: str, code: str) -> str:
    return f"{issuer_id(base_url, code)}/jwks.json"


def token_status_list(base_url: str) -> str:
    return f"{_base(base_url)}{TOKEN_STATUS_LIST_PATH}"


def bitstring_status_list(base_url: str) -> str:
    return f"{_base(base_url)}{BITSTRING_STATUS_LIST_PATH}"


def status_issuer(base_url: str) -> str:
    """The status lists' issuer: the vault's operator, which the registry names as its admin."""
    return f"{_base(base_url)}{STATUS_PATH}"


def status_jwks(base_url: str) -> str:
    return f"{_base(base_url)}{STATUS_JWKS_PATH}"
