"""The revocation status lists in standard formats, for verifiers outside the vault. Public.

Both are built from the bitmap of ``/status/snapshot`` on every request and signed by the
registry's admin (the operator); its key is at ``/status/jwks.json``, ``kid`` its address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.deps import Ctx, Now, PublicUrl, Session
from vault.interop import status_lists, urls

router = APIRouter(tags=["status"])

_CACHE = {"Cache-Control": f"max-age={status_lists.TTL}"}


def _signed(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": what}}


@router.get(
    urls.TOKEN_STATUS_LIST_PATH,
    response_class=Response,
    responses=_signed(status_lists.TOKEN_MEDIA_TYPE, "a Status List Token (JWT, typ statuslist+jwt)"),
)
async def token_status_list(ctx: Ctx, session: Session, base: PublicUrl, now: Now) -> Response:
    """The IETF Token Status List (draft-ietf-oauth-status-list) of every status index.

    A JWT signed ES256K by the registry's admin: `status_list` has one bit per index
    (`bits` 1, 1 = revoked), `sub` is this URL, `ttl` says how long to reuse it."""
    token = await status_lists.token_status_list(ctx, session, base, now)
    return Response(token, media_type=status_lists.TOKEN_MEDIA_TYPE, headers=_CACHE)


@router.get(
    urls.BITSTRING_STATUS_LIST_PATH,
    response_class=Response,
    responses=_signed(status_lists.VC_MEDIA_TYPE, "a BitstringStatusListCredential secured as vc+jwt"),
)
async def bitstring_status_list(ctx: Ctx, session: Session, base: PublicUrl, now: Now) -> Response:
    """The W3C Bitstring Status List (revocation) of every status index.

    A BitstringStatusListCredential secured with JOSE (vc-jose-cose, JWS compact), signed
    ES256K by the registry's admin; `statusListIndex` of an exported W3C VC points into it."""
    token = await status_lists.bitstring_status_list(ctx, session, base, now)
    return Response(token, media_type=status_lists.VC_MEDIA_TYPE, headers=_CACHE)


@router.get(urls.STATUS_JWKS_PATH)
async def status_jwks(ctx: Ctx) -> JSONResponse:
    """The status lists' verification key as a JWK Set (RFC 7517).

    The key of the registry's admin, `kid` its address: check it against `admin()` on chain."""
    return JSONResponse(status_lists.jwks(ctx), headers=_CACHE)
