from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Ctx, Now, Session
from vault.presentations import status_snapshot

router = APIRouter(prefix="/status", tags=["status"])

# A verifier goes offline with what it last fetched; a minute of reuse by proxies and clients
# spares the vault (one chain call per department and a signature per build) and is far
# shorter than the age any verifier would accept.
MAX_AGE = 60


@router.get(
    "/snapshot",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {}},
            "description": "the snapshot (vault.presentations.status_snapshot.encode)",
        }
    },
)
async def snapshot(ctx: Ctx, session: Session, now: Now) -> Response:
    """The signed status snapshot, for verifiers offline.

    Public: the signed status snapshot for verifiers offline: revoked status indexes,
    departments and their roles as the chain has them, replaced subject keys; signed by the
    registry's admin."""
    built = await status_snapshot.build(ctx, session, now)
    return Response(
        status_snapshot.encode(built), media_type="application/json", headers={"Cache-Control": f"max-age={MAX_AGE}"}
    )
