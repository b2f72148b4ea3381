from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import Ctx, CurrentPrincipal, Now, Session
from api.schemas.auth import ChallengeCreate, ChallengePublic, TokenCreate, TokenPublic
from vault.accounts import auth

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/challenge", response_model=ChallengePublic)
async def challenge(body: ChallengeCreate, request: Request, session: Session, now: Now) -> ChallengePublic:
    """Step 1 of logging in: a one-time challenge to sign.

    The text to sign with EIP-191 `personal_sign` (see *Logging in* above). It expires after
    `expires_in` seconds and is good for one attempt. Outstanding challenges are bounded per
    client and overall: past the bound the answer is 429 with `Retry-After`."""
    # The HTTP peer: behind a reverse proxy, run the server with its forwarded-address option
    # so that this is the client's address and not the proxy's.
    client = request.client.host if request.client else ""
    text = await auth.create_challenge(session, body.address, now, client)
    return ChallengePublic(challenge=text, expires_in=auth.CHALLENGE_TTL)


@router.post("/token", response_model=TokenPublic)
async def token(body: TokenCreate, ctx: Ctx, now: Now) -> TokenPublic:
    """Step 2 of logging in: the signed challenge in, a bearer token out.

    Send the challenge exactly as it was returned and its EIP-191 `personal_sign` signature
    (`0x` + 130 hex digits). The attempt uses the challenge up, right or wrong. 401 if the
    challenge is unknown, used or expired, if the signature is not by the challenge's address,
    or if that address is registered for no role."""
    principal = await auth.redeem(ctx.sessions, body.challenge, body.signature, now)
    return TokenPublic(
        access_token=auth.issue_token(ctx.token_key, principal, now),
        expires_in=auth.TOKEN_TTL,
        role=principal.role,
        subject=principal.id,
    )


@router.post("/logout", status_code=204, response_class=Response)
async def logout(principal: CurrentPrincipal, session: Session, now: Now) -> Response:
    """Ends the presented session token at once, on every worker."""
    await auth.logout(session, principal, now)
    return Response(status_code=204)
