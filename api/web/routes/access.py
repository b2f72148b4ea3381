"""使用知情: who read a person's data, when and why, each entry with a badge once the page has
checked it, in the browser, against the access log's tree head anchored on chain.

The server hands over each entry as it was hashed (canonical JSON) with its RFC 9162 audit
path; the page recomputes the leaf hash and the root itself (static/access.js), and checks
that what it shows (action, outcome, time, fields, purpose) is what the proven entry says.
The root is the one the vault anchored, with its transaction shown: the page does not ask the
chain itself, so the badge is as good as that root, which anyone can compare on the chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Now, Session
from api.web.pages import render
from api.web.session import PagePrincipal
from api.web.views import access_entry
from vault.accounts import departments
from vault.audit import access_log
from vault.audit import log as audit_log
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/my/access", response_class=HTMLResponse)
async def my_access(request: Request, principal: PagePrincipal, session: Session, now: Now) -> HTMLResponse:
    if principal.role != "subject":
        raise PermissionDeniedError("this page is a citizen's or an enterprise's own")
    found = await access_log.access_log(session, principal.id, limit=100, order="newest")
    known = await departments.list_all(session)
    name_of: dict[str, str] = {d.code: d.name for d in known}
    kind_of: dict[str, str] = {d.code: d.kind for d in known}
    entries = [
        {
            **access_entry(a, name_of, kind_of),
            "role": a.actor_role,
            "entry": audit_log.canonical(a.entry).decode(),
            "proof": None
            if a.proof is None
            else {"size": a.proof.tree_size, "root": a.proof.root, "path": a.proof.path},
            "tx_hash": None if a.proof is None else a.proof.tx_hash,
            "block": None if a.proof is None else a.proof.block_number,
        }
        for a in found.entries
    ]
    return render(request, "my/access.html", entries=entries)
