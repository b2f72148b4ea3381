"""A holder's own credential exported as an SD-JWT VC, bound to the holder's key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from api.deps import Ctx, CurrentSubject, Now, PublicUrl, Session
from api.schemas.common import Strict
from vault.interop import sd_jwt_vc

router = APIRouter(tags=["records"])
MEDIA_TYPE = "application/dc+sd-jwt"


class SdJwtExport(Strict):
    holder_jwk: dict[str, Any] | None = Field(
        default=None, description="your public key as a JWK (EC, secp256k1): the key the credential names"
    )
    holder_public_key: str | None = Field(
        default=None,
        max_length=140,
        description="or your public key as 0x-hex of the uncompressed point (64 bytes, or 65 with 04)",
    )


@router.post(
    "/me/records/{record_id}/sd-jwt",
    response_class=Response,
    responses={
        200: {
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "the SD-JWT VC in compact form: <issuer JWT>~<disclosure>~...~",
        }
    },
)
async def my_record_sd_jwt(
    record_id: str,
    body: SdJwtExport,
    subject: CurrentSubject,
    ctx: Ctx,
    session: Session,
    base: PublicUrl,
    now: Now,
) -> Response:
    """One of your records as an SD-JWT VC.

    Signed ES256K by the issuing department's key (`/issuers/{code}/jwks.json`, `kid` its
    address), `typ` dc+sd-jwt, every field selectively disclosable, bound (`cnf`) to the
    public key you send, which must be your current key, the one you log in with (422
    otherwise). Its status is a bit of `/status/token-list`, its chain anchor in `anchor`.
    Only anchored, unrevoked credentials of an active issuer are exported (409 otherwise)."""
    key = sd_jwt_vc.holder_jwk(body.holder_jwk, body.holder_public_key)
    text = await sd_jwt_vc.export(
        ctx, session, subject_id=subject.id, record_id=record_id, holder_key=key, base_url=base, now=now
    )
    return Response(text, media_type=MEDIA_TYPE)
