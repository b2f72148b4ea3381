"""/demo: the demo's people's keys (api.demo_keys), to download or to put straight into this
browser, and the password that opens them. A vault that was never seeded answers 404."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from api import demo_keys
from api.deps import Ctx
from api.web.pages import render
from vault.errors import NotFoundError

router = APIRouter(include_in_schema=False)
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@router.get("/demo", response_class=HTMLResponse)
async def demo(request: Request, ctx: Ctx) -> HTMLResponse:
    people = demo_keys.listed(ctx.keystore.directory.parent)
    if not people:
        raise NotFoundError("demo keys", "this vault (it was not started with --demo)")
    return render(request, "demo.html", people=people, password=demo_keys.PASSWORD)


@router.get("/demo/keys/{name}.json")
async def demo_key(name: str, ctx: Ctx) -> FileResponse:
    known = {p["name"] for p in demo_keys.listed(ctx.keystore.directory.parent)}
    if not NAME.fullmatch(name) or name not in known:
        raise NotFoundError("demo key", name)
    path = demo_keys.folder(ctx.keystore.directory.parent) / f"{name}.json"
    return FileResponse(path, media_type="application/json", filename=f"{name}.json")
