from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict


class SubjectBase(BaseModel):
    kind: Literal["citizen", "enterprise"]
    name: str = Field(min_length=1, max_length=200)


class SubjectCreate(SubjectBase, Strict):
    # The raw ID number / credit code lives only in this request model: it is hashed into the
    # subject id and never stored or returned.
    identifier: str = Field(min_length=1, max_length=40, description="resident ID number or unified social credit code")
    address: str = Field(pattern=ADDRESS, description="the key the subject logs in with")


class SubjectFind(Strict):
    """A registrar's look-up by the number the person shows; like ``SubjectCreate``, the only
    model that carries the raw number, and only inbound."""

    kind: Literal["citizen", "enterprise"]
    identifier: str = Field(min_length=1, max_length=40, description="resident ID number or unified social credit code")


class SubjectPublic(SubjectBase):
    id: str = Field(description="pseudonymous subject id (keyed hash of the identifier)")
    name: str | None = Field(description="null once the whole file is erased")  # type: ignore[assignment]
    address: str
    created_at: int
    erased_at: int | None = Field(default=None, description="when the whole file was erased, if it was")


class RegistrarAssign(Strict):
    department: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="the registrar that takes the subject over")


class RegistrarPublic(BaseModel):
    subject_id: str
    kind: str
    registered_by: str = Field(description="the registrar that replaces its key and appoints its guardians")


class KeyRotationPublic(BaseModel):
    subject_id: str
    key_version: int
