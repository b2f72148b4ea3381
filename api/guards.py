"""What every answer of a vault serving a browser needs besides its body.

- **The vault's own host names only.** A vault on the loopback address answers to 127.0.0.1,
  localhost and ::1, and to nothing else: a web page elsewhere could otherwise rebind its own
  name to 127.0.0.1 and talk to a developer's local vault as a same-origin page, with the
  demo's published keys. Behind a proxy (bound to another address) the proxy owns the names.
- **Security headers on every answer**: the pages load nothing from elsewhere and run no
  inline script (their data blocks are JSON), so the policy is "self" throughout; no other
  site may frame them; content types are meant as sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

HEADERS = {
    b"content-security-policy": (
        b"default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        b"script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    # Same-origin requests keep their Origin header (the cookie's cross-site check reads it).
    b"referrer-policy": b"same-origin",
}


def host_names(bound: str) -> frozenset[str] | None:
    """The names a vault bound to ``bound`` answers to; None: any (it is not on loopback)."""
    return LOOPBACK if bound in LOOPBACK or bound.startswith("127.") else None


def name_of(host_header: str) -> str:
    """``host[:port]`` or ``[v6]:port`` -> the name alone, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guards:
    """ASGI middleware: refuses a foreign Host (when ``hosts`` is given) and adds ``HEADERS``."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.hosts = None if hosts is None else frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.hosts is not None:
            given = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
            if name_of(given) not in self.hosts:
                from api.problems import problem  # problems imports the routes' world

                detail = f"this vault answers only to {', '.join(sorted(self.hosts))}, not to {given or 'no'} Host"
                await problem(421, "Misdirected request", detail)(scope, receive, self._with_headers(send))
                return
        await self.app(scope, receive, self._with_headers(send))

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS.items() if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return sending
