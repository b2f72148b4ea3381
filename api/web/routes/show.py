"""扫码亮证: a citizen shows chosen fields of a credential as a QR code, signed in the browser
and alive for minutes. The page's script calls the JSON API with the session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Ctx, Now, Session
from api.web.pages import render
from api.web.session import PagePrincipal
from vault.credentials import records
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)

TTL_CHOICES = (120, 300, 600)  # seconds a shown code lives (the API allows 30-600)
# Ticked at first: what a counter usually needs, the holder's name; the rest is the person's choice.
USUAL = ("姓名", "名称")


@router.get("/my/show/{record_id}", response_class=HTMLResponse)
async def show(
    record_id: str, request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now
) -> HTMLResponse:
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    view = await records.read_for_subject(ctx, session, principal.id, record_id, now)
    document = view.document or {}
    return render(
        request,
        "my/show.html",
        record=view,
        title=document.get("title", view.id),
        fields=list(document.get("fields", {})),
        ttls=TTL_CHOICES,
        usual=USUAL,
    )
