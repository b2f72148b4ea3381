"""扫码亮证: holders make presentations and QR codes; counters challenge and verify them."""

from __future__ import annotations

from eth_utils.hexadecimal import encode_hex
from fastapi import APIRouter, Request, Response

from api.deps import Ctx, CurrentSubject, CurrentVerifier, Now, PublicUrl, Session
from api.schemas.presentations import (
    ChallengePublic,
    PreparedPublic,
    PresentationCheck,
    PresentationCreate,
    PresentationPublic,
    PresentationSign,
    PresentationVerdictPublic,
    QrRequest,
    verdict_public,
)
from vault.consent.typed_data import typed_data_json
from vault.errors import VaultValueError
from vault.interop import sd_jwt_format, sd_jwt_verify, urls
from vault.presentations import codec as presentation_codec
from vault.presentations import cose_qr, holder, qr
from vault.presentations import nonces as presentation_nonces
from vault.presentations import verify as presentation_verify

router = APIRouter(tags=["presentations"])
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")


@router.post("/me/presentations", response_model=PreparedPublic)
async def prepare(body: PresentationCreate, me: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> PreparedPublic:
    """Step 1: the fields of one of your credentials to show; sign the typed data it returns."""
    prepared = await holder.prepare(
        ctx,
        session,
        subject_id=me.id,
        record_id=body.record_id,
        fields=body.fields,
        nonce=holder.parse_nonce(body.nonce),
        ttl=body.ttl,
        now=now,
    )
    p = prepared.presentation
    return PreparedPublic(
        unsigned=prepared.unsigned,
        typed_data=typed_data_json(prepared.typed_data),
        credential_hash=encode_hex(p.credential),
        fields=[f.name for f in p.fields],
        expires_at=p.expires_at,
    )


@router.post("/me/presentations/sign", response_model=PresentationPublic)
async def sign(body: PresentationSign, me: CurrentSubject, ctx: Ctx, session: Session) -> PresentationPublic:
    """Step 2: your signature in, the text for the QR code out."""
    signed = await holder.finish(ctx, session, subject_id=me.id, unsigned=body.unsigned, signature=body.signature)
    return PresentationPublic.of(signed.text, signed.presentation.expires_at)


@router.post("/me/presentations/qr", response_class=Response)
async def qr_image(body: QrRequest, me: CurrentSubject) -> Response:
    """Step 3: the QR code of a signed presentation, as PNG or SVG."""
    # Only presentations (DV1 or its COSE form, DC1): this is no general QR service.
    text = body.text.strip()
    p = cose_qr.decode(text) if text.startswith(cose_qr.PREFIX) else presentation_codec.decode(text)
    if p.header.subject != me.id.lower():
        raise VaultValueError("this presentation is of another subject's credential", field="text")
    if body.format == "svg":
        return Response(qr.svg(body.text, scale=body.scale), media_type="image/svg+xml")
    return Response(qr.png(body.text, scale=body.scale), media_type="image/png")


@router.post("/presentations/challenges", response_model=ChallengePublic)
async def challenge(dept: CurrentVerifier, session: Session, now: Now) -> ChallengePublic:
    """A nonce for the holder to sign into the next presentation shown at this counter."""
    c = await presentation_nonces.challenge(session, verifier=dept.code, now=now)
    return ChallengePublic(nonce=encode_hex(c.nonce), expires_at=c.expires_at)


@router.post("/presentations/verify", response_model=PresentationVerdictPublic)
async def verify(
    body: PresentationCheck, dept: CurrentVerifier, ctx: Ctx, session: Session, now: Now, base: PublicUrl
) -> PresentationVerdictPublic:
    """The verdict on a presented credential: every check, passed or failed, and why.

    Reads a QR code's text (``DV1:``, or ``DC1:``, its COSE form) or an SD-JWT VC with its
    key binding JWT."""
    if sd_jwt_format.looks_like(body.text):
        v = await sd_jwt_verify.verify_online(ctx, session, body.text, verifier=dept, base_url=base, now=now)
        return verdict_public(v)
    return verdict_public(
        await presentation_verify.verify_online(
            ctx, session, body.text, verifier=dept, now=now, issuer_id=lambda code: urls.issuer_id(base, code)
        )
    )


@router.post(
    "/presentations/verify/image",
    response_model=PresentationVerdictPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGE_TYPES},
        }
    },
)
async def verify_image(
    request: Request, dept: CurrentVerifier, ctx: Ctx, session: Session, now: Now, base: PublicUrl
) -> PresentationVerdictPublic:
    """Verify a picture of a QR code.

    The verdict on a photo or screenshot of the QR code, sent as the request body
    (Content-Type image/png, image/jpeg, ...)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise VaultValueError(
            f"send the image itself as the body, with Content-Type one of {', '.join(IMAGE_TYPES)}", field="image"
        )
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > qr.MAX_IMAGE_BYTES:
            raise VaultValueError(f"the image is over {qr.MAX_IMAGE_BYTES // 1_000_000} MB", field="image")
    try:
        text: str | bytes = qr.decode_image(bytes(data))
    except VaultValueError:
        text = bytes(data)  # the verdict names why it could not be read
    if isinstance(text, str) and sd_jwt_format.looks_like(text):
        v = await sd_jwt_verify.verify_online(ctx, session, text, verifier=dept, base_url=base, now=now)
        return verdict_public(v)
    return verdict_public(
        await presentation_verify.verify_online(
            ctx, session, text, verifier=dept, now=now, issuer_id=lambda code: urls.issuer_id(base, code)
        )
    )
