from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import HASH32, Strict
from vault.record_types import RecordType


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
    type: RecordType
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
    sm2_signature: str | None = Field(
        default=None,
        description="sm suite: the issuer's SM2 signature (r || s hex, user id 1234567812345678) of the batch "
        "root's text (vault.credentials.root_signatures.root_text) by its sm2_public_key; null in the intl suite",
    )


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


class RecordPagePublic(BaseModel):
    records: list[RecordPublic] = Field(description="oldest first (created_at, id, version)")
    total: int = Field(description="records (every version) the whole list holds, not only this page")
    next: str | None = Field(description="pass as `after` for the next page; null: no more")


MAX_BULK = 10_000  # vault.credentials.bulk.MAX_ITEMS


class BulkCreate(Strict):
    items: list[RecordCreate] = Field(
        min_length=1, max_length=MAX_BULK, description=f"1 to {MAX_BULK} credentials, all or nothing"
    )
    dry_run: bool = Field(default=False, description="only check every item (200, nothing written)")


class BulkIssued(BaseModel):
    id: str
    subject_id: str
    credential_hash: str


class BulkResult(BaseModel):
    count: int
    dry_run: bool = False
    created_at: int = Field(description="the records' common created_at (Unix seconds)")
    records: list[BulkIssued] = Field(description="in the order of the request's items (none for a dry run)")


class StatusQuery(Strict):
    ids: list[str] = Field(min_length=1, max_length=MAX_BULK)


class RecordStatus(BaseModel):
    id: str
    status: str = Field(
        description="pending | anchored | revoking | revoked | failed | unknown (not a record this department issued)"
    )
    root: str | None
    tx_hash: str | None
    block_number: int | None
