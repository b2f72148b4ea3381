"""Putting the pages into the FastAPI app: their routes, their static files, a sign-in redirect,
and the API's problems shown as a page where a page went wrong."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web import assets
from api.web.pages import HERE, render
from api.web.routes import (
    access,
    acting,
    admin,
    agents,
    auditor,
    citizen,
    corrections,
    counter,
    demo,
    erasure,
    grants,
    home,
    issuing,
    registrar,
    show,
    signin,
)
from api.web.session import SignInRequired, sign_in_url

ROUTERS = (
    home.router,
    signin.router,
    citizen.router,
    grants.router,
    erasure.router,
    agents.router,
    acting.router,
    corrections.router,
    access.router,
    show.router,
    counter.router,
    issuing.router,
    registrar.router,
    demo.router,
    auditor.router,
    admin.router,
    assets.router,
)

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def _page_paths() -> set[str]:
    """The routes that answer with a page (an image or a script answers errors as the API does)."""
    routes = [route for router in ROUTERS for route in router.routes]
    return {getattr(route, "path", "") for route in routes if getattr(route, "response_class", None) is HTMLResponse}


def _shown_as_page(handler: Handler, pages: set[str]) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        answered = handler(request, exc)
        response = await answered if inspect.isawaitable(answered) else answered
        route = request.scope.get("route")
        if request.method == "GET" and getattr(route, "path", None) in pages and isinstance(response, JSONResponse):
            problem = json.loads(bytes(response.body))
            # The headline and what to do next are the page's words; the vault's reason (English)
            # stays as a detail line. A department page opened without its role names the role.
            return render(
                request,
                "error.html",
                status_code=response.status_code,
                problem=problem,
                status=response.status_code,
                needs=getattr(exc, "needs", None),
                dept_roles=getattr(exc, "roles", None),
            )
        return response

    return handle


def install(app: FastAPI) -> None:
    """Adds the pages to ``app``; after ``api.problems.install``, whose answers they reuse."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = _page_paths()
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _shown_as_page(handler, pages)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)
