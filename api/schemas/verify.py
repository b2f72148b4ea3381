from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import HASH32, Strict


class VerifyRequest(Strict):
    document: dict[str, Any] | None = Field(default=None, description="the credential document as issued")
    credential_hash: str | None = Field(default=None, pattern=HASH32)
    proof: list[str] | None = Field(
        default=None, max_length=64, description="Merkle proof from the credential to its anchored root"
    )

    @model_validator(mode="after")
    def one_of(self) -> VerifyRequest:
        if (self.document is None) == (self.credential_hash is None):
            raise ValueError("give exactly one of document or credential_hash")
        return self


class CheckPublic(BaseModel):
    name: str
    passed: bool
    reason: str


class IssuerPublic(BaseModel):
    address: str
    code: str | None
    name: str | None


class VerdictPublic(BaseModel):
    valid: bool
    credential_hash: str | None = Field(description="null when the document is too damaged to hash (check `format`)")
    checks: list[CheckPublic]
    issuer: IssuerPublic | None
    root: str | None
    issued_at: int | None
    valid_from: int | None
    valid_until: int | None
    revoked: bool
    revoked_at: int | None
    tx_hash: str | None
    block_number: int | None
    sm2_signature: str | None = Field(
        default=None,
        description="sm suite: the issuer's SM2 signature (r || s hex, user id 1234567812345678) of the batch "
        "root's text (vault.credentials.root_signatures.root_text) by its sm2_public_key; null in the intl suite",
    )
