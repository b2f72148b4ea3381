"""Rendering a page: the Jinja2 environment, the reader's language and text size, and the
words of the page in that language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api import cookies
from api.web.i18n import LANGS, MESSAGES, Lang, translate
from vault import pages

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

LANG_COOKIE = "dv_lang"
LARGE_COOKIE = "dv_large"


def lang_of(request: Request) -> Lang:
    chosen = request.cookies.get(LANG_COOKIE)
    for lang in LANGS:
        if chosen == lang:
            return lang
    return "zh"


def large_of(request: Request) -> bool:
    return request.cookies.get(LARGE_COOKIE) == "1"


def day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_words(lang: Lang) -> dict[str, dict[str, str]]:
    """Each verification check's name in plain words, and what to do when it fails: the vault's
    own reasons are in English, so a clerk reads these first."""
    names = {key.split(".")[1] for key in MESSAGES["zh"] if key.startswith("check.") and key.count(".") == 1}
    return {
        name: {"ok": translate(lang, f"check.{name}"), "bad": translate(lang, f"check.{name}.bad")}
        for name in sorted(names)
    }


PROBLEM_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)


def problem_words(lang: Lang) -> dict[str, str]:
    """A refusal's headline by its HTTP status, for the pages' scripts (``Page.reason``)."""
    return {str(status): translate(lang, f"problem.{status}") for status in PROBLEM_STATUSES}


# Items a page lists at once, newest first, when it lists something that grows (grants, requests,
# notices, delegations): enough to scan, few enough that a page with 100,000 behind it is quick.
LIST_PAGE = 20


@dataclass(frozen=True)
class Paging:
    """What a page says under a list shown a page at a time (``vault.pages``): how many there
    are in all, the link to the next page (None: this is the last) and, past the first page,
    the link back to it. Links keep the page's other lists where they were."""

    total: int
    more: str | None
    first: str | None


def paging(request: Request, page: pages.Page[Any], param: str = "after") -> Paging:
    """The links for ``page``, the list whose cursor the page reads from the query's ``param``."""
    others = [(k, v) for k, v in request.query_params.multi_items() if k != param]

    def link(query: list[tuple[str, str]]) -> str:
        return request.url.path + (f"?{urlencode(query)}" if query else "")

    more = link([*others, (param, page.next)]) if page.next else None
    first = link(others) if request.query_params.get(param) else None
    return Paging(page.total, more, first)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "large": large_of(request),
            "t": lambda key, default=None: translate(lang, key, default),
            "day": day,
            "moment": moment,
            "check_words": lambda: check_words(lang),
            "problem_words": lambda: problem_words(lang),
            # For the menu only: whether the session is live is decided by the page's dependency.
            "signed_in": cookies.SESSION in request.cookies,
            **context,
        },
        status_code=status_code,
    )
