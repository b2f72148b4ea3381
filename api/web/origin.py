"""A page's writes come from its own pages: the browser says where a request comes from
(``Origin``, or ``Sec-Fetch-Site``), and a write from anywhere else is refused. With the
SameSite=Strict session cookie, this is the pages' defence against cross-site requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from vault.errors import PermissionDeniedError


def same_origin(request: Request) -> None:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise PermissionDeniedError("this request did not come from the vault's own pages")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise PermissionDeniedError("this request did not come from the vault's own pages")
