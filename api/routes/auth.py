from __future__ import annotations

from fastapi import APIRouter

from api.deps import Ctx, Now, Session
from api.schemas.auth import ChallengeCreate, ChallengePublic, TokenCreate, TokenPublic
from vault import auth

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/challenge", response_model=ChallengePublic)
async def challenge(body: ChallengeCreate, session: Session, now: Now) -> ChallengePublic:
    text = await auth.create_challenge(session, body.address, now)
    return ChallengePublic(challenge=text, expires_in=auth.CHALLENGE_TTL)


@router.post("/token", response_model=TokenPublic)
async def token(body: TokenCreate, ctx: Ctx, now: Now) -> TokenPublic:
    principal = await auth.redeem(ctx.sessions, body.challenge, body.signature, now)
    return TokenPublic(
        access_token=auth.issue_token(ctx.token_key, principal, now),
        expires_in=auth.TOKEN_TTL,
        role=principal.role,
        subject=principal.id,
    )
