"""代为办理 without a browser: an agent (session role ``delegate``) signs in to ``/acting``, which
lists whom it may act for now; ``/acting/{id}`` shows what it may do for one of them, within its
delegation, and is refused for anyone else, as the API refuses it. Citizens, departments and
readers without a session do not get these pages."""

from __future__ import annotations

from typing import Any

import pytest

from api.web.pages import day
from keys import SigningKey
from tests.delegation_conformance import DAY, appoint, enterprise, grant_as, subject_id
from tests.support.harness import Actor, Harness
from vault import clock


async def sign_in(h: Harness, key: SigningKey) -> Any:
    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    return await h.http.post("/signin", json={"challenge": challenge, "signature": key.sign_message(challenge)})


async def firm_and_agent(h: Harness) -> tuple[Actor, Actor, str, SigningKey, dict[str, Any]]:
    registrar, _, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    delegation = await appoint(h, firm, key, types=["licence"], days=10)
    return registrar, firm, sid, key, delegation


async def test_an_agent_lands_on_acting_and_sees_whom_it_acts_for(harness: Harness) -> None:
    h = harness
    _, _, sid, key, delegation = await firm_and_agent(h)
    r = await sign_in(h, key)
    assert r.status_code == 200 and r.json() == {"next": "/acting"}

    page = await h.http.get("/acting")
    assert page.status_code == 200, page.text
    assert "闽江数据科技有限公司" in page.text  # an enterprise's name is public: shown whole
    assert "企业" in page.text and "经办人" in page.text and "证照" in page.text
    assert f'href="/acting/{sid}"' in page.text and "为闽江数据科技有限公司办理" in page.text
    # The agent's own menu, not the citizen's.
    assert 'href="/acting"' in page.text and 'href="/my/grants"' not in page.text
    assert day(delegation["expires_at"]) in page.text  # a date, not seconds


async def test_the_subjects_page_shows_only_what_the_delegation_covers(harness: Harness) -> None:
    h = harness
    _, firm, sid, key, delegation = await firm_and_agent(h)
    agent = await h.login(Actor(key))
    mine = await grant_as(h, agent, sid, key, expires_at=delegation["expires_at"], purpose="办理社保登记")
    assert mine.status_code == 201, mine.text
    # The firm's own grant over a type the agent was not given is not the agent's business.
    body = {
        "grantee": "renshe",
        "record_types": ["certificate"],
        "fields": ["结论"],
        "purpose_code": 101,
        "purpose": "不该被经办人看到",
        "expires_at": delegation["expires_at"],
        "max_uses": 1,
        "allow_unissued_fields": True,
    }
    typed = (await h.http.post("/me/grants/prepare", json=body, headers=firm.headers)).json()["typed_data"]
    other = await h.http.post(
        "/me/grants",
        json={"message": typed["message"], "signature": firm.key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert other.status_code == 201, other.text
    await h.settle()

    await sign_in(h, key)
    asked_at = clock.now()
    page = await h.http.get(f"/acting/{sid}")
    assert page.status_code == 200, page.text
    # Whole days left in the delegation (10 days from its appointment, seconds ago, or not).
    days_left = {(delegation["expires_at"] - t) // DAY for t in (asked_at, clock.now())}
    assert mine.json()["id"] in page.text and "办理社保登记" in page.text and "0 / 3" in page.text
    assert other.json()["id"] not in page.text and "不该被经办人看到" not in page.text
    assert 'class="revoke"' in page.text and 'id="revoke-password"' in page.text
    # The form offers the fields of the records the delegation covers (names only) and the
    # departments that may receive grants; the number of days stops at the delegation's end.
    assert 'value="准驾车型"' in page.text and "C1" not in page.text
    assert '<option value="renshe">' in page.text and any(f'max="{d}"' in page.text for d in days_left)
    # The access log about the covered record types: the agent's grant is in it.
    assert "使用记录（委托范围内）" in page.text and "委托范围内还没有访问记录" not in page.text
    # Every control has a label (the browser test asks axe-core too).
    for control in ("grantee", "purpose-code", "purpose", "days", "uses", "grant-password", "revoke-password"):
        assert f'<label for="{control}">' in page.text, control
    h.http.cookies.set("dv_lang", "en")
    en = await h.http.get(f"/acting/{sid}")
    assert "Act for 闽江数据科技有限公司" in en.text and "Grant on their behalf" in en.text


async def test_another_subjects_page_is_refused(harness: Harness) -> None:
    h = harness
    registrar, _, sid, key, _ = await firm_and_agent(h)
    citizen = await h.subject(registrar, name="李四")
    stranger = await subject_id(h, citizen)
    await sign_in(h, key)
    assert (await h.http.get(f"/acting/{sid.upper()}")).status_code == 200  # ids are case-blind, as in the API
    for refused in (stranger, "0x" + "00" * 32, "not-an-id"):
        r = await h.http.get(f"/acting/{refused}")
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), refused
        assert "no live delegation" in r.text and "李四" not in r.text


async def test_a_withdrawn_agent_is_refused_at_once(harness: Harness) -> None:
    h = harness
    _, firm, sid, key, delegation = await firm_and_agent(h)
    await sign_in(h, key)
    assert (await h.http.get(f"/acting/{sid}")).status_code == 200
    typed = (await h.http.post(f"/me/delegations/{delegation['id']}/revoke/prepare", headers=firm.headers)).json()[
        "typed_data"
    ]
    r = await h.http.post(
        f"/me/delegations/{delegation['id']}/revoke",
        json={"signature": firm.key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert r.status_code == 200, r.text
    r = await h.http.get(f"/acting/{sid}")
    assert r.status_code == 403 and "no live delegation" in r.text
    listing = await h.http.get("/acting")
    assert listing.status_code == 200 and f'href="/acting/{sid}"' not in listing.text
    assert "目前没有人委托你办理" in listing.text


@pytest.mark.parametrize("path", ["/acting", "/acting/{sid}"])
async def test_citizens_and_departments_get_a_page_saying_why(harness: Harness, path: str) -> None:
    h = harness
    registrar, firm, sid, _, _ = await firm_and_agent(h)
    for wrong in (firm, registrar, h.admin):  # the firm itself: its own pages are /my
        h.http.cookies.set("dv_session", wrong.token)
        r = await h.http.get(path.format(sid=sid))
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), (path, r.status_code)
        assert "an agent&#39;s or a guardian&#39;s" in r.text, path


@pytest.mark.parametrize("path", ["/acting", "/acting/0xabc"])
async def test_without_a_session_the_reader_signs_in_first(harness: Harness, path: str) -> None:
    r = await harness.http.get(path)
    assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
