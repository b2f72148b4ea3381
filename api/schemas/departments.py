from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict


class DepartmentBase(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", examples=["gongan"])
    name: str = Field(min_length=1, max_length=200, examples=["市公安局"])
    roles: list[str] = Field(min_length=1, examples=[["issuer", "verifier"]])


class DepartmentCreate(DepartmentBase, Strict):
    auth_address: str = Field(pattern=ADDRESS, description="the key the department logs in with")
    subject_kinds: list[Literal["citizen", "enterprise"]] | None = Field(
        default=None,
        min_length=1,
        description="for a registrar: the kinds of subject it registers (default both)",
    )


class DepartmentPublic(DepartmentBase):
    active: bool
    auth_address: str
    chain_address: str
    created_at: int
    subject_kinds: list[str] = Field(description="for a registrar: the kinds of subject it registers")
