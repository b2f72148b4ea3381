"""Erasure (被遗忘) on the pages: what a citizen or enterprise had erased, and the way to erase
the whole file; the issuer's notices of its records erased since.

The pages only show; erasing, revoking and marking a notice read are the page's script calling
the JSON API (``/me/erasures``, the grant revocation pair, ``/departments/me/erasure-notices/read``)
with the session cookie, so the rules are the API's. A whole file needs the person's live grants
revoked first, each signed in the browser with the person's own key: the server never sees it.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Now, Session
from api.schemas.common import After
from api.web.pages import LIST_PAGE, paging, render
from api.web.session import PagePrincipal
from api.web.views import grant_cards
from vault import erasure
from vault.accounts import departments
from vault.db.erasure import ErasureRow
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/my/erasures", response_class=HTMLResponse)
async def my_erasures(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """The person's erasures, newest first, a page at a time (``vault.pages``), and the form
    that erases the whole file, naming the live grants it revokes first."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    page = await erasure.page_for_subject(session, principal.id, after=after, limit=LIST_PAGE)
    # Nothing is erased after a whole file, so its erasure is always the newest: on the first page.
    file_erased = after is None and any(e.scope == "file" for e in page.items)
    live = [] if file_erased else await erasure.live_grants(session, principal.id, now)
    known = await departments.list_all(session)
    names: dict[str, str] = {d.code: d.name for d in known}
    return render(
        request,
        "my/erasures.html",
        erasures=[_row(e) for e in page.items],
        paged=paging(request, page),
        file_erased=file_erased,
        live=await grant_cards(ctx, session, live, now, names, {d.code: d.kind for d in known}),
    )


def _row(row: ErasureRow) -> dict[str, object]:
    return {
        "id": row.id,
        "scope": row.scope,
        "record_ids": json.loads(row.record_ids),
        "by": row.requested_by_role,
        "basis": row.basis,
        "at": row.requested_at,
        "revoked": json.loads(row.revoked_grants),
    }
