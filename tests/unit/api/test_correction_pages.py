"""The correction pages without a browser (issue 11): each is its users' own, a reader without a
session is sent to sign in and back, and the lists say what the API says: the citizen's
requests with their status and the department's reason, the issuer's with the values now and
asked for (waiting first), and the notices of a department that read the corrected record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import Actor, Harness, open_harness
from vault import clock


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


@pytest.mark.parametrize("path", ["/my/corrections", "/counter/corrections", "/my/records/some-record"])
async def test_without_a_session_the_reader_signs_in_first(harness: Harness, path: str) -> None:
    r = await harness.http.get(path)
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"


async def test_each_correction_page_is_its_users_own(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    for path, wrong in (
        ("/my/corrections", dept),
        ("/my/corrections", h.admin),
        ("/counter/corrections", citizen),
        ("/counter/corrections", h.admin),
    ):
        h.http.cookies.set("dv_session", wrong.token)
        r = await h.http.get(path)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), (path, r.status_code)
        assert "这个页面不属于当前身份" in r.text
    h.http.cookies.set("dv_session", citizen.token)
    assert (await h.http.get("/my/corrections")).status_code == 200
    h.http.cookies.set("dv_session", dept.token)
    assert (await h.http.get("/counter/corrections")).status_code == 200


async def _page(h: Harness, who: Actor, path: str) -> str:
    h.http.cookies.set("dv_session", who.token)
    r = await h.http.get(path)
    assert r.status_code == 200, r.text
    return r.text


async def test_the_lists_say_what_was_asked_and_decided(harness: Harness) -> None:
    h = harness
    issuer = await h.department("gongan", name="市公安局")
    reader = await h.department("renshe", roles=["data_user"], name="人社局")
    citizen = await h.subject(issuer)
    licence = await h.issue(issuer)
    await h.settle()

    page = await _page(h, citizen, f"/my/records/{licence['id']}")
    assert "申请纠错" in page and 'id="correction"' in page and "准驾车型（现为：C1）" in page
    body = {"reason": "驾驶证上应为 C2", "fields": {"准驾车型": "C2"}}
    r = await h.http.post(f"/me/records/{licence['id']}/corrections", json=body, headers=citizen.headers)
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    page = await _page(h, citizen, f"/my/records/{licence['id']}")
    assert 'id="correction"' not in page and "已有一份待处理的纠错申请" in page  # one open request per record

    page = await _page(h, citizen, "/my/corrections")
    assert f'data-correction="{first}"' in page and "待处理" in page and "准驾车型：C2" in page

    page = await _page(h, issuer, "/counter/corrections")
    assert "待处理 1 件" in page and "驾驶证上应为 C2" in page
    assert "<td>C1</td>" in page and "<strong>C2</strong>" in page  # the value now, the value asked
    assert 'class="accept"' in page and 'class="reject secondary"' in page

    r = await h.http.post(f"/corrections/{first}/reject", json={"note": "与档案一致"}, headers=issuer.headers)
    assert r.status_code == 200, r.text
    page = await _page(h, citizen, "/my/corrections")
    assert "已驳回" in page and "与档案一致" in page

    # A second request, accepted, after 人社局 read the licence under a grant: it is notified.
    terms = {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": ["姓名"],
        "purpose_code": 101,
        "purpose": "核验驾驶资格",
        "expires_at": clock.now() + 30 * 86400,
        "max_uses": 5,
    }
    typed = (await h.http.post("/me/grants/prepare", json=terms, headers=citizen.headers)).json()["typed_data"]
    signed = {"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)}
    r = await h.http.post("/me/grants", json=signed, headers=citizen.headers)
    assert r.status_code == 201, r.text
    await h.settle()
    assert (await h.http.post(f"/grants/{r.json()['id']}/read", json={}, headers=reader.headers)).status_code == 200
    page = await _page(h, reader, "/counter/corrections")
    assert "没有通知" in page and "还没有给本部门的纠错申请" in page
    r = await h.http.post(f"/me/records/{licence['id']}/corrections", json=body, headers=citizen.headers)
    second = r.json()["id"]
    page = await _page(h, issuer, "/counter/corrections")
    assert page.index(f'data-correction="{second}"') < page.index(f'data-correction="{first}"')  # waiting first
    r = await h.http.post(f"/corrections/{second}/accept", json={}, headers=issuer.headers)
    assert r.status_code == 200, r.text
    page = await _page(h, citizen, "/my/corrections")
    assert "已更正" in page and f'href="/my/records/{licence["id"]}"' in page and "第 2 版" in page
    page = await _page(h, citizen, f"/my/records/{licence['id']}")
    assert "<dd>C2</dd>" in page
    page = await _page(h, reader, "/counter/corrections")
    assert "未读 1 条" in page and "已由第 1 版更正为第 2 版" in page and 'class="mark-read"' in page
    (notice,) = (await h.http.get("/notifications", headers=reader.headers)).json()["notifications"]
    assert (await h.http.post(f"/notifications/{notice['id']}/read", headers=reader.headers)).status_code == 200
    page = await _page(h, reader, "/counter/corrections")
    assert "notice unread" not in page and "已读" in page and 'class="mark-read"' not in page
