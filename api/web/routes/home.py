"""The landing page, and the reader's choices of language and text size (cookies, so that they
work without JavaScript and hold on every page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api import demo_keys
from api.deps import Ctx
from api.web.i18n import LANGS
from api.web.pages import LANG_COOKIE, LARGE_COOKIE, render
from api.web.views import local_path

router = APIRouter(include_in_schema=False)
YEAR = 365 * 24 * 3600


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, ctx: Ctx) -> HTMLResponse:
    return render(request, "home.html", demo=bool(demo_keys.listed(ctx.keystore.directory.parent)))


@router.get("/prefs")
async def prefs(
    request: Request, lang: str | None = None, large: str | None = None, next: str = "/"
) -> RedirectResponse:
    response = RedirectResponse(local_path(next), status_code=303)
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=YEAR, samesite="lax", path="/")
    if large in ("0", "1"):
        response.set_cookie(LARGE_COOKIE, large, max_age=YEAR, samesite="lax", path="/")
    return response
