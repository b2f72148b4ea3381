from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict

DataUserKind = Literal["government", "bank", "notary", "enterprise"]
# The shape of a 统一社会信用代码 (GB 32100); the vault checks its check character.
AUTHORITY_CODE = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


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
    authority_code: str | None = Field(
        default=None,
        pattern=AUTHORITY_CODE,
        description="its 统一社会信用代码: the 颁发机构代码 of the e-licences it issues (GB/T 36904); set once",
        examples=["11220000013544541J"],
    )
    kind: DataUserKind = Field(
        default="government",
        description="a government department, or a data user of another kind (bank, notary, enterprise) "
        "that verifies and reads under grants but never issues or registers",
    )
    licence_number: str | None = Field(
        default=None,
        max_length=32,
        description="required for a bank (金融许可证 机构编码), notary (执业证 number) or enterprise "
        "(统一社会信用代码); none for a government department",
        examples=["B0001H111000001"],
    )


class DepartmentPublic(DepartmentBase):
    active: bool
    auth_address: str
    chain_address: str
    created_at: int
    subject_kinds: list[str] = Field(description="for a registrar: the kinds of subject it registers")
    authority_code: str | None = Field(default=None, description="its 统一社会信用代码 (颁发机构代码), if registered")
    kind: str = Field(default="government", description="government | bank | notary | enterprise")
    licence_number: str | None = Field(default=None, description="a non-government data user's licence number")
    sm2_public_key: str | None = Field(
        default=None,
        description="sm suite: the issuer's SM2 public key (04 || x || y hex) that signs its batch roots "
        "beside its chain key; null in the intl suite, and for an issuer registered before SM2 keys existed until "
        "its first batch",
    )


class RolesSet(Strict):
    roles: list[str] = Field(min_length=1, examples=[["verifier", "data_user"]])


class AuthorityCodeSet(Strict):
    authority_code: str = Field(
        pattern=AUTHORITY_CODE,
        description="the department's 统一社会信用代码 (颁发机构代码, GB/T 36904); set once",
        examples=["11220000013544541J"],
    )
