"""Presentations: what a holder asks for and signs, what a counter sends and is told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from eth_utils.hexadecimal import encode_hex
from pydantic import BaseModel, Field

from api.schemas.common import Strict
from api.schemas.verify import CheckPublic
from vault.presentations import qr

if TYPE_CHECKING:
    from vault.presentations.checks import PresentationVerdict

NONCE = r"^0x[0-9a-fA-F]{32}$"


class PresentationCreate(Strict):
    record_id: str = Field(max_length=64)
    fields: list[str] = Field(
        default_factory=list, max_length=1023, description="names of the fields to show (none: only the header)"
    )
    nonce: str | None = Field(
        default=None, pattern=NONCE, description="the counter's challenge; drawn at random if absent"
    )
    ttl: int = Field(default=300, description="seconds the presentation lives (30-600)")


class PreparedPublic(BaseModel):
    unsigned: str = Field(description="the presentation without your signature; send it back with the signature")
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4 with your key")
    credential_hash: str
    fields: list[str]
    expires_at: int


class PresentationSign(Strict):
    unsigned: str = Field(max_length=4000)
    signature: str = Field(max_length=140)


class PresentationPublic(BaseModel):
    text: str = Field(description="what the QR code holds")
    chars: int
    qr_version: int = Field(description="QR code version (1-40) at error correction level M")
    expires_at: int

    @classmethod
    def of(cls, text: str, expires_at: int) -> PresentationPublic:
        return cls(text=text, chars=len(text), qr_version=qr.version_for(text), expires_at=expires_at)


class QrRequest(Strict):
    text: str = Field(max_length=4000)
    format: Literal["png", "svg"] = "png"
    scale: int = Field(default=6, ge=1, le=20)


class PresentationCheck(Strict):
    # Far above what a QR code holds: an oversized code gets a verdict ("format"), not a 422.
    text: str = Field(max_length=100_000, description="the string the QR code holds (DV1:...)")


class ChallengePublic(BaseModel):
    nonce: str
    expires_at: int


class CredentialSummary(BaseModel):
    """The header of a presented credential: never the subject's ID number, only its pseudonym."""

    type: str
    title: str
    subject: str
    issuer_code: str
    record_id: str
    record_version: int
    issued_at: int
    valid_from: int
    valid_until: int
    credential_hash: str


class PresentationVerdictPublic(BaseModel):
    valid: bool
    mode: str
    checks: list[CheckPublic]
    failed: list[str]
    disclosed: dict[str, Any]
    credential: CredentialSummary | None
    issuer_name: str | None
    expires_at: int | None
    snapshot_age: int | None = None


def verdict_public(v: PresentationVerdict) -> PresentationVerdictPublic:
    """A verdict as the API answers it and `datavault check --offline` prints it."""
    p = v.presentation
    summary = None
    if p is not None:
        h = p.header
        summary = CredentialSummary(
            type=h.type,
            title=h.title,
            subject=h.subject,
            issuer_code=h.issuer_code,
            record_id=h.record_id,
            record_version=h.record_version,
            issued_at=h.issued_at,
            valid_from=h.valid_from,
            valid_until=h.valid_until,
            credential_hash=encode_hex(p.credential),
        )
    return PresentationVerdictPublic(
        valid=v.valid,
        mode=v.mode,
        checks=[CheckPublic(name=c.name, passed=c.passed, reason=c.reason) for c in v.checks],
        failed=v.failed(),
        disclosed=v.disclosed,
        credential=summary,
        issuer_name=v.issuer_name,
        expires_at=p.expires_at if p else None,
        snapshot_age=v.snapshot_age,
    )
