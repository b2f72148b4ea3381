"""The auditor's page: the access log traced with filters (a GET form: a page's address is
its query), exported as CSV or JSON Lines through the API, the signed tree heads beside what
the chain holds, and the integrity verification run on request and read as a report."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Session
from api.routes.audit import TraceFilter
from api.web.pages import render
from api.web.session import PagePrincipal
from vault.audit import heads as audit_heads
from vault.audit import trace as audit_trace
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/auditor", response_class=HTMLResponse)
async def auditor(
    request: Request, principal: PagePrincipal, f: TraceFilter, ctx: Ctx, session: Session, after: int | None = None
) -> HTMLResponse:
    if principal.role != "auditor":
        raise PermissionDeniedError("this page is an auditor's")
    page = await audit_trace.trace(session, f, after_seq=after, limit=PAGE, order="newest")
    log_key: str = request.app.state.vault.sequencer.log_key.address
    found = await audit_heads.heads(ctx.chain, session, log_key=log_key, limit=10)
    # The filters as given, for the export links and the next page.
    given = {k: v for k, v in request.query_params.items() if v and k != "after"}
    return render(
        request,
        "auditor.html",
        entries=page.entries,
        next=page.next,
        heads=found.heads,
        log_key=found.log_key,
        filters=given,
        query=urlencode(given),
    )
