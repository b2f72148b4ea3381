"""A request id for every request: the client's ``X-Request-ID`` if it is sane, else a new
one. It is returned in the response and stamped on every audit event the request causes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from vault.events import RequestContext, request_context

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get(HEADER, "")
        rid = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = request_context.set(RequestContext(request_id=rid))
        try:
            response = await call_next(request)
        finally:
            request_context.reset(token)
        response.headers[HEADER] = rid
        return response
