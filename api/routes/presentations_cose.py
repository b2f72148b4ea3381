"""扫码亮证 as a CWT in COSE_Sign1 (``DC1:``): the holder's prepare and sign. Counters verify it
at /presentations/verify like a ``DV1:`` one (``vault.presentations.verify`` reads both)."""

from __future__ import annotations

from eth_utils.hexadecimal import encode_hex
from fastapi import APIRouter

from api.deps import Ctx, CurrentSubject, Now, PublicUrl, Session
from api.schemas.presentations import PresentationPublic, PresentationSign
from api.schemas.presentations_cose import CosePreparedPublic, CosePresentationCreate
from vault.interop import urls
from vault.presentations import cose_holder, holder

router = APIRouter(tags=["presentations"])


@router.post("/me/presentations/cose", response_model=CosePreparedPublic)
async def prepare(
    body: CosePresentationCreate, me: CurrentSubject, ctx: Ctx, session: Session, now: Now, base: PublicUrl
) -> CosePreparedPublic:
    """Step 1 (COSE): the fields of one of your credentials to show, as a CWT your key signs."""
    prepared = await cose_holder.prepare(
        ctx,
        session,
        subject_id=me.id,
        record_id=body.record_id,
        fields=body.fields,
        nonce=holder.parse_nonce(body.nonce),
        ttl=body.ttl,
        now=now,
        public_key=body.public_key,
        issuer_id=lambda code: urls.issuer_id(base, code),
    )
    p = prepared.presentation
    return CosePreparedPublic(
        unsigned=prepared.unsigned,
        to_be_signed=encode_hex(prepared.to_be_signed),
        external_aad=encode_hex(prepared.external_aad),
        credential_hash=encode_hex(p.credential),
        fields=[f.name for f in p.fields],
        expires_at=p.expires_at,
    )


@router.post("/me/presentations/cose/sign", response_model=PresentationPublic)
async def sign(body: PresentationSign, me: CurrentSubject, ctx: Ctx, session: Session) -> PresentationPublic:
    """Step 2 (COSE): your ES256K signature in, the DC1 text for the QR code out."""
    signed = await cose_holder.finish(ctx, session, subject_id=me.id, unsigned=body.unsigned, signature=body.signature)
    return PresentationPublic.of(signed.text, signed.presentation.expires_at)
