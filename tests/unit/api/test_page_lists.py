"""The pages' long lists a page at a time (issue 12): the grants a citizen gave and a department
holds, an agent's view of them, the citizen's and the issuer's correction requests, the
department's notices, the citizen's delegations and the subjects an agent acts for. Each page
shows the newest ``LIST_PAGE`` with the whole list's total, and its "更多" link (a plain
``?after=`` link, no script) leads through the rest with nothing twice and nothing left out.
The home page counts with a COUNT."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from sqlalchemy import select, update

from api.web.pages import LIST_PAGE
from keys import SigningKey
from tests.bulk_conformance import citizen_id
from tests.correction_conformance import asked, decide
from tests.delegation_conformance import appoint, enterprise, grant_as, subject_id
from tests.grant_conformance import granted, setup
from tests.paging_conformance import issue_many
from tests.support.harness import Actor, Harness
from vault import clock
from vault.accounts import agents
from vault.consent import receipts
from vault.db.corrections import CorrectionNotice
from vault.db.grants import DelegationRow, GrantRow

MORE = LIST_PAGE + 3  # a full page and some


def _next(page: str, param: str) -> str | None:
    """The page's "更多" link for the list whose cursor is ``param``."""
    found = re.search(rf'href="([^"]*[?&]{param}=[^"]*)" rel="next"', page)
    return html.unescape(found.group(1)) if found else None


async def _get(h: Harness, who: Actor, path: str) -> str:
    h.http.cookies.set("dv_session", who.token)
    r = await h.http.get(path)
    assert r.status_code == 200, (path, r.text)
    return r.text


async def _follow(
    h: Harness, who: Actor, path: str, ids: Callable[[str], list[str]], param: str = "after"
) -> tuple[list[list[str]], list[str]]:
    """Every page of one list from ``path`` on, following its link: the ids each page showed,
    and the pages' text."""
    shown: list[list[str]] = []
    texts: list[str] = []
    at: str | None = path
    while at is not None:
        assert len(shown) < 20, "the pages never end"
        text = await _get(h, who, at)
        shown.append(ids(text))
        texts.append(text)
        at = _next(text, param)
        if at is not None:
            assert at.startswith(path.split("?")[0] + "?")  # the same page, one list further
    return shown, texts


def _attr(name: str) -> Callable[[str], list[str]]:
    return lambda text: re.findall(rf'<li class="[^"]*" {name}="([^"]+)"', text)


def _whole(shown: list[list[str]], expected: list[str]) -> None:
    """The pages: a full first page, the rest after it, each item once, none missing."""
    flat = [i for page in shown for i in page]
    assert len(shown[0]) == LIST_PAGE, [len(p) for p in shown]
    assert all(0 < len(p) <= LIST_PAGE for p in shown)
    assert len(flat) == len(set(flat)) and sorted(flat) == sorted(expected)


async def _newest_first(h: Harness, ids: list[str]) -> list[str]:
    async with h.vault.ctx.sessions() as s:
        rows = list(await s.scalars(select(GrantRow).where(GrantRow.id.in_(ids))))
    return [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]


async def test_grants_a_page_at_a_time_to_the_citizen_and_the_department(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    given = [(await granted(h, citizen, settle=False, purpose=f"核验 {i}"))["id"] for i in range(MORE)]
    order = await _newest_first(h, given)

    shown, texts = await _follow(h, citizen, "/my/grants", _attr("data-grant"))
    _whole(shown, given)
    assert [i for page in shown for i in page] == order  # newest first, as the page always was
    assert f"共 {MORE} 项授权" in texts[0] and f"共 {MORE} 项授权" in texts[-1]
    assert "回到第一页" not in texts[0] and 'href="/my/grants">回到第一页' in texts[-1]
    assert 'id="grant"' in texts[-1]  # the form for a new grant is on every page

    shown, texts = await _follow(h, reader, "/counter/grants", _attr("data-grant"))
    _whole(shown, given)
    assert f"共 {MORE} 项授权" in texts[0]

    # A cursor of the API's list (oldest first) is not one of the page's (newest first).
    cursor = (await h.http.get("/me/grants", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    h.http.cookies.set("dv_session", citizen.token)
    r = await h.http.get("/my/grants", params={"after": cursor})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")


async def test_an_agent_sees_the_grants_it_may_see_a_page_at_a_time(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    delegation = await appoint(h, firm, key, types=["licence"], days=10)
    agent = await h.login(Actor(key))
    given = []
    for i in range(MORE):
        r = await grant_as(h, agent, sid, key, expires_at=delegation["expires_at"], purpose=f"办理 {i}")
        assert r.status_code == 201, r.text
        given.append(r.json()["id"])
    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    signed = await h.http.post("/signin", json={"challenge": challenge, "signature": key.sign_message(challenge)})
    assert signed.status_code == 200
    session = h.http.cookies.get("dv_session")
    assert session
    shown, texts = await _follow(h, Actor(key, session), f"/acting/{sid}", _attr("data-grant"))
    _whole(shown, given)
    assert f"共 {MORE} 项授权" in texts[0]


async def test_corrections_a_page_at_a_time_to_the_citizen_and_the_issuer(harness: Harness) -> None:
    h = harness
    issuer = await h.department("gongan")
    citizen = await h.subject(issuer)
    issued = await issue_many(h, issuer, MORE)
    await h.settle()
    requests = [(await asked(h, citizen, r["id"], fields={"编号": "NCR-9999"}))["id"] for r in issued]
    titles = {r["id"]: f"证明 {i}" for i, r in enumerate(issued)}
    rejected = requests[:2]
    for cid in rejected:
        assert (await decide(h, issuer, cid, "reject", note="无需更正")).status_code == 200
    waiting = [c for c in requests if c not in rejected]

    shown, texts = await _follow(h, citizen, "/my/corrections", _attr("data-correction"))
    _whole(shown, requests)
    assert f"共 {MORE} 件申请" in texts[0]
    # Each request named by its record's title: the titles of the page's records are opened.
    assert sorted(t for t in titles.values() if f"<h2>{t} " in texts[0]) == sorted(
        titles[r["id"]] for r in issued if requests[issued.index(r)] in shown[0]
    )

    # The issuer: the waiting list a page at a time, the decided ones beside it on every page.
    shown, texts = await _follow(h, issuer, "/counter/corrections", _attr("data-correction"))
    assert f"待处理 {len(waiting)} 件" in texts[0] and f"共 {len(waiting)} 件" in texts[0]
    waiting_shown = [[c for c in page if c in waiting] for page in shown]
    _whole(waiting_shown, waiting)
    assert all(sorted(c for c in page if c in rejected) == sorted(rejected) for page in shown)

    # The decided list has a cursor of its own (``decided_after``); the waiting ones stay.
    for cid in waiting[: LIST_PAGE - 1]:
        assert (await decide(h, issuer, cid, "reject", note="无需更正")).status_code == 200
    decided = rejected + waiting[: LIST_PAGE - 1]
    shown, texts = await _follow(h, issuer, "/counter/corrections", _attr("data-correction"), "decided_after")
    left = [c for c in requests if c not in decided]
    decided_shown = [[c for c in page if c in decided] for page in shown]
    _whole(decided_shown, decided)
    assert all(sorted(c for c in page if c not in decided) == sorted(left) for page in shown)
    assert left and f"待处理 {len(left)} 件" in texts[-1]


async def test_notices_a_page_at_a_time_with_the_unread_counted(harness: Harness) -> None:
    h = harness
    issuer = await h.department("gongan")
    citizen = await h.subject(issuer)
    (record,) = await issue_many(h, issuer, 1)
    await h.settle()
    correction = await asked(h, citizen, record["id"], fields={"编号": "NCR-9999"})
    sid = await subject_id(h, citizen)
    async with h.vault.ctx.sessions() as s, s.begin():
        for i in range(MORE):
            s.add(
                CorrectionNotice(
                    department_code="gongan",
                    correction_id=correction["id"],
                    subject_id=sid,
                    record_id=record["id"],
                    old_version=1,
                    new_version=2,
                    created_at=clock.now(),
                    read_at=clock.now() if i < 5 else None,
                )
            )
    shown, texts = await _follow(h, issuer, "/counter/corrections", _attr("data-notice"), "notices_after")
    async with h.vault.ctx.sessions() as s:
        ids = [str(n) for n in await s.scalars(select(CorrectionNotice.id))]
    _whole(shown, ids)
    assert [int(i) for page in shown for i in page] == sorted((int(i) for i in ids), reverse=True)
    # The unread count is of every notice, not of the page's.
    assert f'data-n="{MORE - 5}">未读 {MORE - 5} 条' in texts[0] and f"共 {MORE} 条通知" in texts[0]
    assert f"未读 {MORE - 5} 条" in texts[-1]


async def test_delegations_a_page_at_a_time(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    made = [str((await appoint(h, firm, SigningKey.generate(), types=["licence"]))["id"]) for _ in range(MORE)]
    shown, texts = await _follow(h, firm, "/my/agents", _attr("data-delegation"))
    _whole(shown, made)
    assert [i for page in shown for i in page] == sorted(made, key=int, reverse=True)
    assert f"共 {MORE} 项委托" in texts[0]


async def test_whom_an_agent_acts_for_a_page_at_a_time(harness: Harness) -> None:
    """``/acting``: each subject once (a re-appointment is not a second subject), one whose
    delegation ended not at all, newest delegation first, the total of the subjects it acts for."""
    h = harness
    registrar = await h.department("gongan")
    key = SigningKey.generate()
    people = [await h.subject(registrar, identifier=citizen_id(i), name=f"市民{i}") for i in range(MORE + 1)]
    for person in people:
        await appoint(h, person, key, types=["licence"])
    await appoint(h, people[0], key, types=["licence", "certificate"])  # the same subject again
    sids = [await subject_id(h, person) for person in people]
    ended = sids[-1]
    async with h.vault.ctx.sessions() as s, s.begin():
        await s.execute(
            update(DelegationRow).where(DelegationRow.subject_id == ended).values(expires_at=clock.now() - 1)
        )
    acting = sids[:-1]
    async with h.vault.ctx.sessions() as s:
        rows = list(await s.scalars(select(DelegationRow).where(DelegationRow.subject_id.in_(acting))))
        assert sorted(await agents.subjects_of(s, key.address, clock.now())) == sorted(acting)
    latest = {r.subject_id: r.id for r in sorted(rows, key=lambda r: r.id)}
    order = sorted(acting, key=lambda sid: latest[sid], reverse=True)

    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    signed = await h.http.post("/signin", json={"challenge": challenge, "signature": key.sign_message(challenge)})
    assert signed.status_code == 200 and signed.json() == {"next": "/acting"}
    session = h.http.cookies.get("dv_session")
    assert session
    shown, texts = await _follow(h, Actor(key, session), "/acting", _attr("data-subject"))
    assert [len(p) for p in shown] == [LIST_PAGE, MORE - LIST_PAGE]
    _whole(shown, acting)
    assert [i for page in shown for i in page] == order
    assert ended not in texts[0] and ended not in texts[-1]
    assert all(f"共 {MORE} 个代办对象" in text for text in texts)
    assert "回到第一页" not in texts[0] and 'href="/acting">回到第一页' in texts[-1]
    assert 'rel="next"' not in texts[-1]


async def test_the_home_page_counts_departments_using_the_data_with_a_count(harness: Harness) -> None:
    """The number of departments using the data is what ``receipts.status_at`` says of each
    grant, counted in the database: active ones, each department once."""
    h = harness
    _, _, citizen, _ = await setup(h)
    await h.department("minzheng", roles=["data_user"])
    for _ in range(3):
        await granted(h, citizen, settle=False)
    other = await granted(h, citizen, settle=False, grantee="minzheng")
    await h.settle()

    async def using() -> int:
        text = await _get(h, citizen, "/my")
        found = re.search(r"(\d+) 个部门正在使用你的数据", text)
        assert found is not None
        async with h.vault.ctx.sessions() as s:
            rows = list(await s.scalars(select(GrantRow)))
        expected = {r.grantee_code for r in rows if receipts.status_at(r, clock.now()) == "active"}
        assert int(found.group(1)) == len(expected)
        return len(expected)

    assert await using() == 2
    async with h.vault.ctx.sessions() as s, s.begin():
        await s.execute(update(GrantRow).where(GrantRow.id == other["id"]).values(uses=GrantRow.max_uses))
    assert await using() == 1  # exhausted: no longer in use
    async with h.vault.ctx.sessions() as s, s.begin():
        await s.execute(update(GrantRow).where(GrantRow.grantee_code == "renshe").values(expires_at=clock.now() - 1))
    assert await using() == 0  # expired
