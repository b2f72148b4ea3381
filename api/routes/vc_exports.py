"""A holder's own credential exported as a W3C Verifiable Credential 2.0 (vc-jose-cose)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Ctx, CurrentSubject, Now, PublicUrl, Session
from vault.interop import w3c_vc

router = APIRouter(tags=["records"])


@router.get(
    "/me/records/{record_id}/vc",
    response_class=Response,
    responses={
        200: {
            "content": {w3c_vc.MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "the credential as a W3C VC 2.0 secured with JOSE (JWS compact, typ vc+jwt)",
        }
    },
)
async def my_record_vc(
    record_id: str, subject: CurrentSubject, ctx: Ctx, session: Session, base: PublicUrl, now: Now
) -> Response:
    """One of your records as a W3C Verifiable Credential 2.0.

    Signed ES256K by the issuing department's key (`/issuers/{code}/jwks.json`, `kid` its
    address); its status is a bit of `/status/bitstring-list`, its chain anchor in `evidence`.
    Only anchored, unrevoked credentials are exported (409 otherwise)."""
    token = await w3c_vc.export(ctx, session, subject_id=subject.id, record_id=record_id, base_url=base, now=now)
    return Response(token, media_type=w3c_vc.MEDIA_TYPE)
