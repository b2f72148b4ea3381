"""Standard formats for other systems: JOSE keys of the vault's secp256k1 keys, issuers'
identifiers and metadata, the credentials exported as SD-JWT VC and W3C VC 2.0, their
presentations and the status lists they point at."""

from vault.interop import (
    issuers,
    jose_keys,
    sd_jwt_format,
    sd_jwt_holder,
    sd_jwt_offline,
    sd_jwt_vc,
    sd_jwt_verify,
    status_lists,
    urls,
    w3c_vc,
)
from vault.interop.issuers import IssuerKeys, issuer_keys

__all__ = [
    "IssuerKeys",
    "issuer_keys",
    "issuers",
    "jose_keys",
    "sd_jwt_format",
    "sd_jwt_holder",
    "sd_jwt_offline",
    "sd_jwt_vc",
    "sd_jwt_verify",
    "status_lists",
    "urls",
    "w3c_vc",
]
