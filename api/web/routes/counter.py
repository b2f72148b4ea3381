"""A department's counter: it verifies a picture of a shown QR code (or the camera's frames)
and reads each check in plain words. The page's script calls the JSON API with the session,
so the rules (roles included) are the API's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web.pages import render
from api.web.session import PagePrincipal
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/counter", response_class=HTMLResponse)
async def counter(request: Request, principal: PagePrincipal) -> HTMLResponse:
    if principal.role != "department":
        raise PermissionDeniedError("this page is a department counter's")
    return render(request, "counter.html", department=principal.id)
