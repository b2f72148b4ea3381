"""A page that went wrong says so in the reader's language, with what to do next; the vault's own
reason (English) stays as a small detail line."""

from __future__ import annotations

from tests.support.harness import Harness


async def test_a_missing_record_is_not_found_in_words_with_the_reason_as_a_detail(harness: Harness) -> None:
    h = harness
    citizen = await h.subject(await h.department("gongan"))
    h.http.cookies.set("dv_session", citizen.token)
    r = await h.http.get("/my/records/0xdeadbeef")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    head, detail = r.text.split('class="detail"')
    assert "没有找到" in head and "请返回" in head and "not found" not in head.split("<main")[1]
    assert "not found" in detail
    h.http.cookies.set("dv_lang", "en")
    r = await h.http.get("/my/records/0xdeadbeef")
    assert "Not found" in r.text and "Go back" in r.text


async def test_another_kind_of_users_page_says_sign_in_with_the_right_key_or_go_home(harness: Harness) -> None:
    h = harness
    h.http.cookies.set("dv_session", h.admin.token)
    r = await h.http.get("/my")
    assert r.status_code == 403
    main = r.text.split("<main")[1]
    assert "这个页面是给另一类用户的" in main and 'href="/signin?next=/my"' in main and 'href="/"' in main
    assert "citizen" in main.split('class="detail"')[1]
