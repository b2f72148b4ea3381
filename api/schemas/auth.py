from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Strict


class ChallengeCreate(Strict):
    address: str = Field(pattern=ADDRESS)


class ChallengePublic(BaseModel):
    challenge: str
    expires_in: int


class TokenCreate(Strict):
    challenge: str = Field(max_length=500)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="EIP-191 personal_sign of the challenge")


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    subject: str
