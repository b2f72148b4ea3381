"""The platform admin's page: departments (add one with its roles and its officer's key,
deactivate, reactivate) and auditors (appoint one). The page's script calls the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Session
from api.web.pages import render
from api.web.session import PagePrincipal
from vault.accounts import auditors, departments
from vault.accounts.departments import ROLE_NAMES
from vault.errors import PermissionDeniedError

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
async def admin(request: Request, principal: PagePrincipal, session: Session) -> HTMLResponse:
    if principal.role != "admin":
        raise PermissionDeniedError("this page is the platform admin's")
    return render(
        request,
        "admin.html",
        departments=await departments.list_all(session),
        auditors=await auditors.list_all(session),
        roles=list(ROLE_NAMES),
    )
