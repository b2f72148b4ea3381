"""Issuers' keys and metadata at well-known URLs, for verifiers outside the vault."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Ctx, PublicUrl, Session
from vault.interop import issuers, urls

router = APIRouter(tags=["issuers"])

# Keys change when the registry changes a department; a minute of reuse is what a verifier
# holding a cached status snapshot already accepts.
MAX_AGE = 60


def _cached(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": f"max-age={MAX_AGE}"})


@router.get(urls.WELL_KNOWN_ISSUER + urls.ISSUERS_PATH + "/{code}")
async def issuer_metadata(code: str, ctx: Ctx, session: Session, base: PublicUrl) -> JSONResponse:
    """SD-JWT VC issuer metadata of the department ``code``: its identifier and keys (JWKS).

    Public. A key is listed only while the registry on chain lists the department's address
    as an active issuer; each key's ``kid`` is that address."""
    found = await issuers.issuer_keys(ctx, session, code)
    return _cached(issuers.metadata(found, base))


@router.get(urls.ISSUERS_PATH + "/{code}/jwks.json")
async def issuer_jwks(code: str, ctx: Ctx, session: Session) -> JSONResponse:
    """The department ``code``'s verification keys as a JWK Set (RFC 7517). Public."""
    found = await issuers.issuer_keys(ctx, session, code)
    return _cached(issuers.jwks(found))
