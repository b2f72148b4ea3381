"""我的数据: a citizen's or an enterprise's own records, grouped by type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Ctx, Now, Session
from api.schemas.common import After
from api.web.pages import render
from api.web.session import PagePrincipal
from api.web.views import masked_name
from vault.accounts import departments, subjects
from vault.audit import access_log
from vault.consent import grants
from vault.credentials import corrections, records
from vault.errors import PermissionDeniedError
from vault.record_types import RecordType

router = APIRouter(include_in_schema=False)


@router.get("/my", response_class=HTMLResponse)
async def my_records(
    request: Request,
    principal: PagePrincipal,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    first: Annotated[int, Query(ge=1, le=2**62)] = 1,
) -> HTMLResponse:
    """The person's records a page at a time (``vault.pages``), grouped by type, with a link to
    the next page; ``first`` only numbers the page's records for the reader."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    page = await records.page_for_subject(ctx, session, principal.id, after=after, now=now)
    views = page.items
    groups = [(t.value, [v for v in views if v.type == t.value]) for t in RecordType]
    me = await subjects.get(ctx, session, principal.id)
    month = datetime.fromtimestamp(now, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return render(
        request,
        "my/records.html",
        groups=[(t, vs) for t, vs in groups if vs],
        count=len(views),
        total=page.total,
        first=first,
        more=page.next,
        greeting_name=masked_name(me.name, me.kind),
        using=await grants.grantees_using(session, principal.id, now),  # a COUNT, however many grants
        accessed=await access_log.accesses_since(session, principal.id, int(month.timestamp())),
        issuers=await _issuer_names(session),
    )


async def _issuer_names(session: AsyncSession) -> dict[str, str]:
    """The departments' names by code: a card names its issuer as people know it (市公安局),
    not by its code."""
    return {d.code: d.name for d in await departments.list_all(session)}


@router.get("/my/records/{record_id}", response_class=HTMLResponse)
async def my_record(
    record_id: str, request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now
) -> HTMLResponse:
    """One record, every field, and its verification against the chain on request (the page
    sends the document and its Merkle proof to the public ``/verify``, as any verifier would)."""
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    view = await records.read_for_subject(ctx, session, principal.id, record_id, now)
    document = view.document or {}
    return render(
        request,
        "my/record.html",
        record=view,
        title=document.get("title", view.id),
        fields=document.get("fields", {}),
        check={"document": document, "proof": list(view.anchor.proof) if view.anchor else None},
        # 申请纠错: one open request per record (the API's rule), so the page says so instead.
        open_correction=await corrections.has_open(session, principal.id, view.id),
        issuers=await _issuer_names(session),
    )
