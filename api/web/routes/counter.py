"""A department's counter: it verifies a picture of a shown QR code (or the camera's frames)
and reads each check in plain words. The page's script calls the JSON API with the session,
so the rules (roles included) are the API's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Session
from api.web.counter_roles import department_page
from api.web.pages import render
from api.web.session import PagePrincipal

router = APIRouter(include_in_schema=False)


@router.get("/counter", response_class=HTMLResponse)
async def counter(request: Request, principal: PagePrincipal, session: Session) -> HTMLResponse:
    roles = await department_page(session, principal, "/counter")
    return render(request, "counter.html", department=principal.id, dept_roles=roles)
