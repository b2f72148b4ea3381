"""The pages' session: the API's own bearer token, kept in an HttpOnly, SameSite=Strict cookie.

A script in a page cannot read it, and another site cannot send it. Every request that
presents it must also come from the vault's own pages: the browser says where a request came
from (``Sec-Fetch-Site``, ``Origin``), and a request from anywhere else is refused. With the
cookie, this is the defence against cross-site requests. The pages' scripts call the JSON API
with it, so a page does nothing the API does not.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from vault.errors import PermissionDeniedError

SESSION = "dv_session"


def same_origin(request: Request) -> None:
    """Refuses a request that the browser says came from another site."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign_site = site is not None and site not in ("same-origin", "none")
    host = request.headers.get("host", "")
    foreign_origin = origin is not None and origin != "null" and urlsplit(origin).netloc != host
    # "null" is what a sandboxed frame or a data: page sends; only a browser that also says the
    # request is its own site's (Sec-Fetch-Site) is believed then.
    opaque = origin == "null" and site not in ("same-origin", "none")
    if foreign_site or foreign_origin or opaque:
        raise PermissionDeniedError("this request did not come from the vault's own pages")
