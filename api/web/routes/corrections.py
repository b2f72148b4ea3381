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
from api.schemas.common import After
from api.web.counter_roles import department_page
from api.web.pages import LIST_PAGE, paging, render
from api.web.session import PagePrincipal
from vault import erasure
from vault.credentials import correction_notices, corrections, records
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/my/corrections", response_class=HTMLResponse)
async def my_corrections(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """The person's requests, newest first, a page at a time (``vault.pages``), each with its
    status, the department's note and, once accepted, a link to the corrected record. Only the
    records the page's requests are about are opened, for their titles."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    page = await corrections.page_for_subject(ctx, session, principal.id, after=after, limit=LIST_PAGE, newest=True)
    titles = await records.titles_for_subject(ctx, session, principal.id, [c.record_id for c in page.items], now)
    return render(request, "my/corrections.html", asked=page.items, titles=titles, paged=paging(request, page))


@router.get("/counter/corrections", response_class=HTMLResponse)
async def counter_corrections(
    request: Request,
    principal: PagePrincipal,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    decided_after: After = None,
    notices_after: After = None,
    erased_after: After = None,
) -> HTMLResponse:
    """Requests about this department's records, the waiting ones and then the decided ones,
    each list newest first, with the values now and the values asked for; and the department's
    notices, newest first, unread ones marked. Each list a page at a time (``vault.pages``),
    with a cursor of its own in the query (``after``, ``decided_after``, ``notices_after``); the
    counts are the lists' totals and a ``COUNT`` of the unread notices. Beside them, the notices
    of this department's records erased since (``erased_after``), where an issuer already looks."""
    roles = await department_page(session, principal, "/counter/corrections")
    department = await get_department(principal, session)
    waiting = await corrections.page_for_issuer(
        ctx, session, department, status="requested", now=now, after=after, limit=LIST_PAGE, newest=True
    )
    decided = await corrections.page_for_issuer(
        ctx, session, department, status=None, decided=True, now=now, after=decided_after, limit=LIST_PAGE, newest=True
    )
    notices = await correction_notices.page_for(session, department, after=notices_after, limit=LIST_PAGE, newest=True)
    erased = await erasure.notices.page_for(session, department, after=erased_after, limit=LIST_PAGE)
    return render(
        request,
        "counter_corrections.html",
        erased=erased.items,
        erased_paged=paging(request, erased, "erased_after"),
        erased_unread=await erasure.notices.unread_count(session, department),
        waiting_list=waiting.items,
        waiting_paged=paging(request, waiting),
        decided_list=decided.items,
        decided_paged=paging(request, decided, "decided_after"),
        waiting=waiting.total,
        notices=notices.items,
        notices_paged=paging(request, notices, "notices_after"),
        unread=await correction_notices.unread_count(session, department),
        dept_roles=roles,
    )
