from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Strict
from vault.record_types import RecordType


class GrantBase(BaseModel):
    record_types: list[RecordType] = Field(min_length=1, examples=[["licence"]])
    fields: list[str] = Field(min_length=1, max_length=64, examples=[["姓名", "准驾车型"]])
    purpose_code: int = Field(ge=0, le=65535, examples=[101])
    purpose: str = Field(min_length=1, max_length=500, examples=["办理社会保险关系转移"])
    not_before: int = Field(ge=0, description="Unix seconds")
    expires_at: int = Field(gt=0, lt=2**32, description="Unix seconds")
    max_uses: int = Field(ge=1, le=1_000_000)


class GrantPrepare(Strict):
    grantee: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="the department's code")
    record_types: list[RecordType] = Field(min_length=1)
    fields: list[str] = Field(min_length=1, max_length=64)
    purpose_code: int = Field(ge=0, le=65535)
    purpose: str = Field(min_length=1, max_length=500)
    not_before: int | None = Field(default=None, ge=0, description="Unix seconds; default now")
    expires_at: int = Field(gt=0, lt=2**32)
    max_uses: int = Field(default=1, ge=1, le=1_000_000)
    allow_unissued_fields: bool = Field(
        default=False,
        description="accept field paths that no record of these types holds yet (records "
        "still to be issued); without it such fields are refused with the fields "
        "that exist",
    )


class TypedDataPublic(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data: sign it with eth_signTypedData_v4")
    grant_id: str | None = None


class GrantSubmit(Strict):
    message: dict[str, Any] = Field(description="the `message` of the typed data that was signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class SignatureSubmit(Strict):
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class GrantPublic(GrantBase):
    id: str
    purpose: str | None = Field(description="null: erased with the subject's file")  # type: ignore[assignment]
    subject_id: str
    grantee: str = Field(description="the grantee's code")
    grantee_name: str | None = Field(default=None, description="the grantee's name")
    grantee_kind: str | None = Field(default=None, description="government | bank | notary | enterprise")
    uses: int
    status: str = Field(description="pending | active | not_yet_valid | expired | exhausted | revoked | failed")
    status_reason: str | None
    signer: str
    tx_hash: str | None
    block_number: int | None
    revoked_at: int | None
    created_at: int


class GrantPagePublic(BaseModel):
    grants: list[GrantPublic] = Field(description="oldest first (created_at, id)")
    total: int = Field(description="grants the whole list holds, not only this page")
    next: str | None = Field(description="pass as `after` for the next page; null: no more")


class GrantRead(Strict):
    record_types: list[RecordType] | None = Field(default=None, description="default: all the grant covers")
    fields: list[str] | None = Field(default=None, max_length=64, description="default: all the grant covers")


class DisclosedRecordPublic(BaseModel):
    id: str
    version: int
    type: str
    title: str
    issuer: str
    valid_from: int
    valid_until: int
    fields: dict[str, Any]


class DisclosurePublic(BaseModel):
    grant_id: str
    subject_id: str
    purpose_code: int
    purpose: str
    uses: int
    max_uses: int
    records: list[DisclosedRecordPublic]


class ConsentReceiptPublic(BaseModel):
    """A consent receipt: who granted what to whom, why and until when, with its proof."""

    grant_id: str
    subject_id: str
    signer: str
    grantee: dict[str, str]
    record_types: list[str]
    fields: list[str]
    purpose: dict[str, Any]
    not_before: int
    expires_at: int
    max_uses: int
    status: str
    chain: dict[str, Any]
    signature: str
    typed_data: dict[str, Any]
