"""Erasure requests, notices to issuers and retention rules, as the API speaks them.
Ids and codes only: an erasure names no person and no value."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, model_validator

from api.schemas.common import Strict
from vault.erasure import BASES
from vault.record_types import RecordType

RECORD_ID = r"^[0-9a-f-]{36}$"  # as the vault writes record ids: lower case


class ErasureBase(Strict):
    scope: Literal["record", "file"] = Field(description="one record (every version) or the whole file")
    record_id: str | None = Field(default=None, pattern=RECORD_ID, description="the record, when scope is record")

    @model_validator(mode="after")
    def _record_named(self) -> ErasureBase:
        if (self.scope == "record") != (self.record_id is not None):
            raise ValueError("name record_id exactly when scope is record")
        return self


class ErasureCreate(ErasureBase):
    """A subject's own request: the basis is its request."""


class RegistrarErasureCreate(ErasureBase):
    basis: Literal["purpose-achieved", "consent-withdrawn", "unlawful-processing", "court-order"] = Field(
        description="the legal basis (PIPL art. 47), recorded with the erasure"
    )


class ErasurePublic(BaseModel):
    id: str
    subject_id: str
    scope: str
    record_ids: list[str]
    requested_by_role: str
    basis: str
    basis_text: str
    requested_at: int
    revoked_grants: list[str]


def basis_text(code: str) -> str:
    return BASES.get(code, code)


class ErasureNoticePublic(BaseModel):
    id: int
    erasure_id: str
    record_id: str
    credential_hash: str
    basis: str
    basis_text: str
    created_at: int
    read_at: int | None


class NoticesRead(Strict):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=1_000)


class RetentionRuleSet(Strict):
    keep_days_after_expiry: StrictInt = Field(ge=0, le=36_600, description="days a record is kept after it expires")


class RetentionRulePublic(BaseModel):
    record_type: RecordType
    keep_days_after_expiry: int
    set_at: int


class RetentionDuePublic(BaseModel):
    record_id: str
    subject_id: str
    type: str
    issuer_code: str
    valid_until: int
    due_at: int


class RetentionRunPublic(BaseModel):
    erased: list[str]
