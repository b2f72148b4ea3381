"""经办人与监护人: whom a citizen or an enterprise has appointed to act for it (agents, which it
appoints and withdraws itself, signing in the browser) and the guardians a registrar appointed,
with the reason the registrar gave. The page's script calls ``/me/delegations/...``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Now, Session
from api.schemas.common import After
from api.web.i18n import translate
from api.web.pages import LIST_PAGE, lang_of, paging, render
from api.web.session import PagePrincipal
from vault.accounts import agents, subjects
from vault.consent import delegations
from vault.errors import PermissionDeniedError
from vault.record_bits import names_of
from vault.record_types import RecordType

router = APIRouter(include_in_schema=False)


@router.get("/my/agents", response_class=HTMLResponse)
async def my_agents(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """The delegations, newest first, a page at a time (``vault.pages``); a guardian's reason is
    opened for the page's only."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    me = await subjects.get(ctx, session, principal.id)
    page = await delegations.page_for_subject(session, principal.id, after=after, limit=LIST_PAGE, newest=True)
    shown: list[dict[str, Any]] = []
    for row in page.items:
        status = "expired" if row.status in agents.LIVE and now >= row.expires_at else row.status
        shown.append(
            {
                "id": row.id,
                "kind": row.kind,
                "agent": row.agent_address,
                "types": [t.value for t in names_of(row.record_types)],
                "expires_at": row.expires_at,
                "status": status,
                "live": status in agents.LIVE,
                "reason": await delegations.guardian_reason(ctx, session, row),
            }
        )
    return render(
        request,
        "my/agents.html",
        kind=me.kind,
        delegations=shown,
        paged=paging(request, page),
        types=[t.value for t in RecordType],
        type_words={t.value: translate(lang_of(request), f"type.{t.value}") for t in RecordType},
        default_days=365,
    )
