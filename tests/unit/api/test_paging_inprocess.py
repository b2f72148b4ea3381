"""The paging conformance suite on the in-process chain and SQLite, and the records page a page at a time."""

from __future__ import annotations

import re

import httpx

from api.client import VaultClient
from tests.paging_conformance import *  # the shared suite runs here
from tests.paging_conformance import issue_many
from tests.support.harness import Harness
from vault import pages


async def test_the_records_page_shows_the_first_page_and_a_link_to_the_next(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar, name="张三")
    await issue_many(h, registrar, pages.DEFAULT_LIMIT + 2)
    h.http.cookies.set("dv_session", citizen.token)
    first = await h.http.get("/my")
    assert first.status_code == 200
    assert first.text.count('class="record"') == pages.DEFAULT_LIMIT
    assert f"共 {pages.DEFAULT_LIMIT + 2} 份，这里是第 1–{pages.DEFAULT_LIMIT} 份" in first.text
    more = re.search(r'href="(/my\?after=[^"]+)" rel="next"', first.text)
    assert more is not None
    second = await h.http.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and second.text.count('class="record"') == 2
    assert f"这里是第 {pages.DEFAULT_LIMIT + 1}–{pages.DEFAULT_LIMIT + 2} 份" in second.text
    assert 'rel="next"' not in second.text
    # A handful of records: one page, no numbers, no link, as before.
    other = await h.subject(registrar, identifier="110105199001011232", name="李四")
    h.http.cookies.set("dv_session", other.token)
    alone = await h.http.get("/my")
    assert "这里是第" not in alone.text and 'rel="next"' not in alone.text


def test_the_cli_client_lists_every_record_by_following_the_cursors() -> None:
    """``datavault records`` prints every record, one request per page of MAX_LIMIT."""
    asked: list[dict[str, str]] = []
    pages_ = {None: ([1, 2], "c1"), "c1": ([3, 4], "c2"), "c2": ([5], None)}

    def answer(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        asked.append(query)
        items, after = pages_[query.get("after")]
        return httpx.Response(200, json={"records": items, "total": 5, "next": after})

    with VaultClient("http://vault.test", transport=httpx.MockTransport(answer)) as client:
        assert client.every("/me/records", "records") == [1, 2, 3, 4, 5]
    assert [q.get("after") for q in asked] == [None, "c1", "c2"]
    assert {q["limit"] for q in asked} == {str(pages.MAX_LIMIT)}
