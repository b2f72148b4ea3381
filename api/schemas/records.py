from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import HASH32, Strict


class SubjectRef(Strict):
    subject_id: str | None = Field(default=None, pattern=HASH32)
    kind: Literal["citizen", "enterprise"] | None = None
    identifier: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def one_way(self) -> SubjectRef:
        if self.subject_id is None and (self.kind is None or self.identifier is None):
            raise ValueError("give subject_id, or kind and identifier")
        return self


class RecordBase(BaseModel):
    type: Literal["licence", "certificate", "data"]
    title: str = Field(min_length=1, max_length=200)


class RecordCreate(RecordBase, Strict):
    subject: SubjectRef
    fields: dict[str, Any] = Field(min_length=1)
    valid_from: int | None = Field(default=None, ge=0, description="Unix seconds; default now")
    valid_until: int = Field(gt=0, lt=2**40, description="Unix seconds")


class RecordRevoke(Strict):
    reason: str = Field(default="", max_length=500)


class AnchorPublic(BaseModel):
    root: str
    proof: list[str]
    tx_hash: str | None
    block_number: int | None


class RecordPublic(BaseModel):
    id: str
    version: int
    type: str
    issuer: str
    status: str = Field(description="pending | anchored | revoking | revoked | failed")
    status_reason: str | None
    credential_hash: str
    valid_from: int
    valid_until: int
    created_at: int
    anchor: AnchorPublic | None
    document: dict[str, Any] | None = Field(default=None, description="the decrypted credential (subject only)")
