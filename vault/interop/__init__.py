"""Standard formats for other systems: JOSE keys of the vault's secp256k1 keys, issuers'
identifiers and metadata, and the credentials exported in IETF and W3C formats."""

from vault.interop import issuers, jose_keys, status_lists, urls, w3c_vc
from vault.interop.issuers import IssuerKeys, issuer_keys

__all__ = ["IssuerKeys", "issuer_keys", "issuers", "jose_keys", "status_lists", "urls", "w3c_vc"]
