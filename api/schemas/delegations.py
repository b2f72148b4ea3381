from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict
from vault.record_types import RecordType


class DelegationPrepare(Strict):
    agent: str = Field(pattern=ADDRESS, description="the agent's (经办人) key")
    record_types: list[RecordType] = Field(min_length=1)
    not_before: int | None = Field(default=None, ge=0, description="Unix seconds; default now")
    expires_at: int = Field(gt=0, lt=2**32)


class GuardianCreate(Strict):
    address: str = Field(pattern=ADDRESS, description="the guardian's key")
    not_before: int | None = Field(default=None, ge=0)
    expires_at: int = Field(gt=0, lt=2**32)
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="why the subject needs a guardian (e.g. the court order); sealed, shown to the subject",
    )


class SubjectKeyRotate(Strict):
    address: str = Field(pattern=ADDRESS, description="the subject's new key")


class DelegationPublic(BaseModel):
    id: int
    subject_id: str
    agent: str
    kind: str = Field(description="agent | guardian")
    record_types: list[str]
    not_before: int
    expires_at: int
    status: str = Field(description="pending | active | expired | revoked | replaced | failed")
    appointed_by: str
    revoked_at: int | None
    created_at: int
    reason: str | None = Field(default=None, description="a guardian's: why the registrar appointed it")


class DelegationCheckPublic(BaseModel):
    """What a department learns when it checks an agent's authority (and nothing else)."""

    valid: bool
    reason: str
    kind: str | None = None
    record_types: list[str] = []
    not_before: int | None = None
    expires_at: int | None = None
    on_chain: bool = Field(description="the consent registry agrees, now")
