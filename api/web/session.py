"""A page session: the API's own bearer token, kept in an HttpOnly, SameSite=Strict cookie
(scripts cannot read it; other sites cannot send it), checked exactly as the API checks it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response

from api import cookies
from api.deps import Ctx, Now, Session
from vault.accounts import auth
from vault.accounts.auth import Principal
from vault.errors import VaultError

COOKIE = cookies.SESSION


class SignInRequired(Exception):
    """No live session: the page sends the reader to sign in, then back to ``next``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def sign_in_url(next_url: str) -> str:
    return f"/signin?next={quote(next_url, safe='/')}"


async def page_principal(request: Request, ctx: Ctx, session: Session, now: Now) -> Principal:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired(request.url.path)
    try:
        principal = auth.verify_token(ctx.token_key, token, now)
        await auth.check_live(session, principal)
    except VaultError:
        raise SignInRequired(request.url.path) from None
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def start(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=auth.TOKEN_TTL,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
