"""Signing in with a key the server never sees: the page asks for a challenge (the API's own,
``POST /auth/challenge``), the browser signs it, and this redeems the signature for a session
cookie. Signing out ends the session on the server as well."""

from __future__ import annotations

import contextlib

from eth_utils.address import is_address, to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api.cookies import same_origin
from api.deps import Ctx, Now, Session
from api.web import counter_roles
from api.web import session as page_session
from api.web.pages import render
from api.web.views import local_path
from vault.accounts import auth
from vault.errors import AuthenticationError, VaultValueError
from vault.presentations import qr

router = APIRouter(include_in_schema=False)

# Where each kind of user lands after signing in.
LANDING = {"subject": "/my", "delegate": "/acting", "department": "/counter", "auditor": "/auditor", "admin": "/admin"}


class SignIn(BaseModel):
    challenge: str = Field(max_length=400)
    signature: str = Field(max_length=200)
    next: str = Field(default="", max_length=400)


@router.get("/signin", response_class=HTMLResponse)
async def page(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "signin.html", next=local_path(next) if next else "")


@router.post("/signin")
async def sign_in(body: SignIn, request: Request, ctx: Ctx, session: Session, now: Now) -> JSONResponse:
    same_origin(request)
    principal = await auth.redeem(ctx.sessions, body.challenge, body.signature, now)
    landing = LANDING[principal.role]
    if principal.role == "department":  # the first counter page its roles let it use
        landing = counter_roles.landing(await counter_roles.roles_of(session, principal))
    response = JSONResponse({"next": local_path(body.next) if body.next else landing})
    page_session.start(response, request, auth.issue_token(ctx.token_key, principal, now))
    return response


@router.post("/signout")
async def sign_out(request: Request, ctx: Ctx, session: Session, now: Now) -> RedirectResponse:
    same_origin(request)
    response = RedirectResponse("/", status_code=303)
    token = request.cookies.get(page_session.COOKIE)
    if token:
        # Already ended or expired: the cookie goes all the same.
        with contextlib.suppress(AuthenticationError):
            await auth.logout(session, auth.verify_token(ctx.token_key, token, now), now)
    page_session.end(response)
    return response


@router.get("/qr/address/{address}.svg")
async def address_qr(address: str) -> Response:
    """A key's address as a QR code, for the registration counter to scan: public, like the
    address itself."""
    if not is_address(address):
        raise VaultValueError("not an address (0x and 40 hex digits)", field="address")
    return Response(qr.svg(to_checksum_address(address)), media_type="image/svg+xml")
