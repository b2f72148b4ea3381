"""代为办理: the pages of an agent (经办人) or a guardian (监护人), the session role ``delegate``.

``/acting`` lists whom it may act for now, a page at a time, with the kind of delegation, the
record types it covers and until when. ``/acting/{subject_id}`` is what it may do for one of
them: the grants within its delegation, a new grant shown as a sentence and signed in the
browser with the delegate's own key, revocation, and the access log about those record types.
The page's script calls the API's ``/subjects/{id}/grants/...`` with the session cookie; this
renders with the vault functions those routes use, and refuses a subject exactly as they do
(:func:`api.deps.get_acting`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Acting, Ctx, Now, Session, get_acting
from api.schemas.common import After
from api.web.pages import LIST_PAGE, paging, render
from api.web.session import PagePrincipal
from api.web.views import access_entry, grant_cards, grant_form, masked_name
from vault.accounts import agents, departments, subjects
from vault.accounts.auth import Principal
from vault.audit import access_log
from vault.consent import grants, purposes
from vault.db.grants import DelegationRow
from vault.errors import PermissionDeniedError
from vault.record_bits import names_of

router = APIRouter(include_in_schema=False)

DAY = 86400


def _delegate(principal: Principal) -> Principal:
    if principal.role != "delegate":
        raise PermissionDeniedError("this page is an agent's or a guardian's (sign in with the key appointed)")
    return principal


def _by(role: str, actor: str, me: str, holder: str) -> str:
    """Who did it, in words from the delegate's side (the log's roles are the subject's: what an
    agent signs for the subject is logged in the subject's role, with the agent as the actor)."""
    if actor == me:
        return "acting.signer.you"
    if actor == holder:
        return "acting.signer.subject"
    if role in ("subject", "delegate"):
        return "acting.signer.other"
    return f"role.{role}"


def _terms(row: DelegationRow) -> dict[str, Any]:
    return {"as": row.kind, "types": [t.value for t in names_of(row.record_types)], "expires_at": row.expires_at}


@router.get("/acting", response_class=HTMLResponse)
async def acting(
    request: Request, principal: PagePrincipal, ctx: Ctx, session: Session, now: Now, after: After = None
) -> HTMLResponse:
    """Whom the delegate acts for now, newest delegation first, a page at a time
    (``vault.pages``); the names are opened for the page's subjects only."""
    me = _delegate(principal)
    page = await agents.page_for_agent(session, me.address, now, after=after, limit=LIST_PAGE, newest=True)
    shown: list[dict[str, Any]] = []
    for row in page.items:
        who = await subjects.get(ctx, session, row.subject_id)
        shown.append({"id": row.subject_id, "name": masked_name(who.name, who.kind), "kind": who.kind, **_terms(row)})
    return render(request, "acting/list.html", subjects=shown, paged=paging(request, page))


@router.get("/acting/{subject_id}", response_class=HTMLResponse)
async def acting_for(
    subject_id: str,
    request: Request,
    principal: PagePrincipal,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
) -> HTMLResponse:
    me = _delegate(principal)
    acting: Acting = await get_acting(subject_id, me, session, now)  # the API's own refusal
    row = await agents.active_for(session, acting.subject_id, me.address, now)
    if row is None:  # get_acting found it a moment ago, in the same transaction
        raise PermissionDeniedError("you do not act for this subject (no live delegation)")
    who = await subjects.get(ctx, session, acting.subject_id)
    known = await departments.list_all(session)
    name_of: dict[str, str] = {d.code: d.name for d in known}
    kind_of: dict[str, str] = {d.code: d.kind for d in known}

    # The grants the API lists to this delegate: those within its delegation, newest first, a
    # page at a time (filtered in the query, as the API's list is).
    page = await grants.page_for_subject(
        session, acting.subject_id, covering=acting.record_types, after=after, limit=LIST_PAGE, newest=True
    )
    given = await grant_cards(ctx, session, page.items, now, name_of, kind_of)
    signer_of = {g.id: g.signer for g in page.items}
    for g in given:
        signer = signer_of[g["id"]]
        g["signer"] = _by("subject", signer, me.address, who.address)

    # Fields a grant may name: those of the subject's records of the covered types (what the
    # API's prepare checks, and names in its refusal).
    fields, _titles = await grant_form(ctx, session, acting.subject_id, acting.record_types)

    found = await access_log.access_log(
        session, acting.subject_id, limit=50, order="newest", record_types=acting.record_types
    )
    entries = [
        {**access_entry(a, name_of, kind_of), "by": _by(a.actor_role, a.actor, me.address, who.address)}
        for a in found.entries
    ]
    return render(
        request,
        "acting/subject.html",
        subject={"id": acting.subject_id, "name": masked_name(who.name, who.kind), "kind": who.kind},
        delegation=_terms(row),
        given=given,
        paged=paging(request, page),
        fields=fields,
        departments=[d for d in known if d.active and "data_user" in d.roles],
        purpose_codes=purposes.OFFERED,
        max_days=max(1, (row.expires_at - now) // DAY),
        default_days=max(1, min(30, (row.expires_at - now) // DAY)),
        entries=entries,
    )
