"""What a request body may be, checked before any route parses it.

- Size: a declared ``Content-Length`` over the limit is refused at once (413), and a chunked
  body is counted as it arrives and refused as soon as it passes the limit, so no worker ever
  holds more than the limit in memory.
- JSON: Python's parser accepts what RFC 8259 does not (``NaN``, ``Infinity``, numbers that
  overflow to infinity, strings with lone surrogates) and recurses without bound. Stored, such
  values make credentials that can never be hashed or verified again, so a JSON body with any
  of them is refused (400) with the reason, whichever route it is for.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vault.credentials.commitments import json_value_problem

DEFAULT_MAX_BODY = 16 * 2**20  # a 10,000-item bulk issuance is a few MiB
# Every route but the few that take large bodies: a record's fields are at most 64 KiB, and a
# body checked on the event loop before anyone is authenticated must cost little to refuse.
ROUTE_BODY = 256 * 2**10
# No request of this API nests deeper; record fields have their own, lower, limit.
MAX_JSON_DEPTH = 64


class BodyRefused(ValueError):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _constant(name: str) -> Any:
    raise BodyRefused(400, "Malformed JSON", f"the request body is not valid JSON: {name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused(400, "Malformed JSON", f"the number {text[:40]} is too large to represent")
    return value


def check_json(body: bytes) -> None:
    """Raises ``BodyRefused`` for JSON this API does not accept; other malformed JSON is left
    to the route's own parser, which reports where it is broken."""
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_finite)
    except BodyRefused:
        raise
    except RecursionError:
        raise BodyRefused(
            400, "Malformed JSON", f"the request body nests deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:
        return
    problem = json_value_problem(parsed, MAX_JSON_DEPTH)
    if problem is not None:
        raise BodyRefused(400, "Malformed JSON", f"the request body is refused: {problem}")


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return bool(kind == b"application/json" or kind.endswith(b"+json"))
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: bounded size and well-formed JSON for every request body."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY, larger: Mapping[str, int] | None = None
    ) -> None:
        """``max_bytes`` bounds every body; a path in ``larger`` may send up to its own bound
        (within ``max_bytes``), any other path up to ``ROUTE_BODY``."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def limit_for(self, path: str) -> int:
        return min(self.larger.get(path, ROUTE_BODY), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, BodyRefused(413, "Request body too large", self._too_large(declared, limit)))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see it as it would have.
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, BodyRefused(413, "Request body too large", self._too_large(None, limit)))
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if body and _is_json(scope):
            try:
                check_json(body)
            except BodyRefused as refused:
                await self._refuse(send, refused)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    @staticmethod
    def _too_large(declared: int | None, limit: int) -> str:
        size = f" ({declared:,} bytes)" if declared is not None else ""
        return f"the request body{size} is over the limit of {limit:,} bytes for this route"

    @staticmethod
    async def _refuse(send: Send, refused: BodyRefused) -> None:
        from api.problems import problem  # problems imports the routes' world; keep this light

        response = problem(refused.status, refused.title, refused.detail)
        if refused.status == 413:
            response.headers["Connection"] = "close"
        await response({"type": "http"}, _nothing, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
