"""DC1 presentations (a CWT in COSE_Sign1): what a holder asks for and gets to sign."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presentations import PresentationCreate


class CosePresentationCreate(PresentationCreate):
    public_key: dict[str, Any] = Field(
        description="your key as a JWK (EC, secp256k1): the CWT names it (cnf) for COSE readers; "
        "it must be the key you sign in with"
    )


class CosePreparedPublic(BaseModel):
    unsigned: str = Field(description="the DC1 text without your signature; send it back with the signature")
    to_be_signed: str = Field(
        description="hex of the COSE Sig_structure (RFC 9052): sign it with ES256K (SHA-256, ECDSA on "
        "secp256k1) and send r then s, 64 bytes"
    )
    external_aad: str = Field(description="hex of the external AAD in it: this deployment's credential domain")
    credential_hash: str
    fields: list[str]
    expires_at: int
