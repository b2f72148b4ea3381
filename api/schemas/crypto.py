"""The vault's crypto suite and a re-encryption's progress, as the API speaks them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Strict

SuiteName = Literal["intl", "sm"]


class MigrationCreate(Strict):
    to: SuiteName = Field(description="the suite to move the vault to: intl (AES-256-GCM, SHA-256) or sm (SM4, SM3)")


class MigrationPublic(BaseModel):
    source: SuiteName
    target: SuiteName
    phase: Literal["moving", "sweeping", "done"] = Field(
        description="moving: subjects in id order; sweeping: every subject again, old keys destroyed; done"
    )
    subjects_done: int = Field(description="subjects done in the current phase")
    subjects_total: int
    subjects_moved: int = Field(description="subjects given a key-encryption key of the target suite")
    sealed_moved: int = Field(description="sealed values re-encrypted into the target suite, every column")
    records_moved: int = Field(description="of which record bodies")
    keys_destroyed: int = Field(description="old key-encryption key versions destroyed in the sweep")
    started_at: int
    moved_at: int | None = Field(description="when every subject had moved (the sweep follows)")
    finished_at: int | None
    last_error: str | None
    last_error_at: int | None


class CryptoPublic(BaseModel):
    suite: SuiteName = Field(description="the suite the vault is recorded in (the source until a move finishes)")
    writing: SuiteName = Field(description="the suite new ciphertexts and access-log MACs are written in")
    migration: MigrationPublic | None = Field(description="the re-encryption under way, else the last one")
