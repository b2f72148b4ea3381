"""A citizen's grants (授权): what each department may read, why and until when; a new grant,
shown in plain words and signed in the browser; revocation in one click.

The page's script calls the JSON API (``/me/grants/prepare``, ``/me/grants``, and the
revocation pair) with the session cookie: the rules are the API's, stated once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Now, Session
from api.schemas.common import After
from api.web.counter_roles import department_page
from api.web.pages import LIST_PAGE, paging, render
from api.web.session import PagePrincipal
from api.web.views import grant_cards, grant_form
from vault.accounts import departments
from vault.consent import grants, purposes
from vault.errors import PermissionDeniedError
from vault.record_bits import ALL_BITS

router = APIRouter(include_in_schema=False)


@router.get("/my/grants", response_class=HTMLResponse)
async def my_grants(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """The grants the person gave, newest first, a page at a time (``vault.pages``), and the form
    for a new one."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    known = await departments.list_all(session)
    name_of: dict[str, str] = {d.code: d.name for d in known}
    page = await grants.page_for_subject(session, principal.id, after=after, limit=LIST_PAGE, newest=True)
    given = await grant_cards(ctx, session, page.items, now, name_of, {d.code: d.kind for d in known})
    fields, titles = await grant_form(ctx, session, principal.id, ALL_BITS)
    users = [d for d in known if d.active and "data_user" in d.roles]
    return render(
        request,
        "my/grants.html",
        given=given,
        paged=paging(request, page),
        fields=fields,
        titles=titles,
        departments=users,
        purpose_codes=purposes.OFFERED,
        default_days=30,
    )


@router.get("/counter/grants", response_class=HTMLResponse)
async def counter_grants(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """The grants given to this department, newest first, a page at a time (``vault.pages``),
    each read with one click (by the API, which counts the use and logs the access)."""
    roles = await department_page(session, principal, "/counter/grants")
    page = await grants.page_for_department(session, principal.id, after=after, limit=LIST_PAGE, newest=True)
    received = await grant_cards(ctx, session, page.items, now, {})
    return render(request, "counter_grants.html", received=received, paged=paging(request, page), dept_roles=roles)
