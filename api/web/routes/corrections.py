"""Corrections (纠错): a citizen's or enterprise's requests and what became of them, and the issuing
department's counter page to decide them, with the notices of corrected records it read.

The lists are rendered here from the same vault services the API uses; asking, accepting,
rejecting and marking a notice read are the pages' scripts calling the JSON API
(``/me/records/{id}/corrections``, ``/corrections/{id}/accept|reject``,
``/notifications/{id}/read``) with the session cookie, so every rule is the API's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Now, Session, get_department
from api.web.counter_roles import department_page
from api.web.pages import render
from api.web.session import PagePrincipal
from vault.credentials import correction_notices, corrections, records
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/my/corrections", response_class=HTMLResponse)
async def my_corrections(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now
) -> HTMLResponse:
    """The person's requests, newest first, each with its status, the department's note and,
    once accepted, a link to the corrected record."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    asked = await corrections.list_for_subject(ctx, session, principal.id)
    held = await records.list_for_subject(ctx, session, principal.id, now)
    titles = {view.id: (view.document or {}).get("title", view.id) for view in held}
    return render(request, "my/corrections.html", asked=list(reversed(asked)), titles=titles)


@router.get("/counter/corrections", response_class=HTMLResponse)
async def counter_corrections(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now
) -> HTMLResponse:
    """Requests about this department's records (waiting ones first, then the newest), with the
    values now and the values asked for; and the department's notices, unread ones marked."""
    roles = await department_page(session, principal, "/counter/corrections")
    department = await get_department(principal, session)
    found = await corrections.list_for_issuer(ctx, session, department, status=None, now=now)
    waiting = [c for c in reversed(found) if c.status == "requested"]
    decided = [c for c in reversed(found) if c.status != "requested"]
    notices = list(reversed(await correction_notices.notices_for(session, department)))
    return render(
        request,
        "counter_corrections.html",
        asked=waiting + decided,
        waiting=len(waiting),
        notices=notices,
        unread=sum(1 for n in notices if n.read_at is None),
        dept_roles=roles,
    )
