"""Lists a page at a time (vault.pages), end to end through the API, for any chain engine and
database: the first page, following ``next`` to the end, the totals, and a bad cursor or limit
refused with a 422 that says which input and why.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py):
tests/unit/api/test_paging_inprocess.py and tests/integration/vault/test_paging_backends.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import select

from tests.support.harness import CITIZEN_ID, YEAR, Actor, Harness
from vault import clock, pages
from vault.db.audit import AuditEntry, AuditQueued


async def issue_many(h: Harness, dept: Actor, n: int) -> list[dict[str, Any]]:
    until = clock.now() + YEAR
    items = [
        {
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "certificate",
            "title": f"证明 {i}",
            "fields": {"编号": f"NCR-{i:04d}"},
            "valid_until": until,
        }
        for i in range(n)
    ]
    r = await h.http.post("/records/bulk", json={"items": items}, headers=dept.headers)
    assert r.status_code == 201, r.text
    issued: list[dict[str, Any]] = r.json()["records"]
    return issued


async def follow(
    h: Harness, actor: Actor, path: str, items: str, limit: int, **query: Any
) -> tuple[list[list[Any]], list[int]]:
    """Every page of a list, following ``next`` (with the same ``query``, as ``status``): the
    pages' items and the totals they gave."""
    found: list[list[Any]] = []
    totals: list[int] = []
    params: dict[str, Any] = {"limit": limit, **query}
    for _ in range(1_000):
        r = await h.http.get(path, params=params, headers=actor.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {items, "total", "next"}, page.keys()
        found.append(page[items])
        totals.append(page["total"])
        if page["next"] is None:
            return found, totals
        params = {"limit": limit, "after": page["next"], **query}
    raise AssertionError("the pages never end")


def refused(r: Any, field: str) -> str:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    named = body.get("field") or " ".join(str(e.get("loc")) for e in body.get("errors") or [])
    assert field in named, body
    assert body["detail"], body
    detail: str = body["detail"]
    return detail


async def test_a_subjects_records_come_a_page_at_a_time_with_their_total(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    issued = await issue_many(h, dept, 7)
    await h.settle()

    first = await h.http.get("/me/records", headers=citizen.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    # Seven fit in the default page: one page, the whole total, nothing next.
    assert page["total"] == 7 and page["next"] is None and len(page["records"]) == 7
    assert all(r["document"]["fields"]["编号"] for r in page["records"])
    assert all(r["anchor"]["tx_hash"] for r in page["records"])

    pages_, totals = await follow(h, citizen, "/me/records", "records", 3)
    assert [len(p) for p in pages_] == [3, 3, 1] and totals == [7, 7, 7]
    walked = [r["id"] for p in pages_ for r in p]
    assert walked == [r["id"] for r in page["records"]]  # the same order, none twice, none left out
    assert sorted(walked) == sorted(x["id"] for x in issued)

    # A page ending exactly at the last record says so: no empty page after it.
    pages_, _ = await follow(h, citizen, "/me/records", "records", 7)
    assert [len(p) for p in pages_] == [7]

    # A record issued after the first page was read appears at the end, nothing shifts.
    r = await h.http.get("/me/records", params={"limit": 4}, headers=citizen.headers)
    cursor = r.json()["next"]
    newer = await h.issue(dept)
    rest = (await h.http.get("/me/records", params={"after": cursor}, headers=citizen.headers)).json()
    assert [x["id"] for x in rest["records"]] == [*walked[4:], newer["id"]] and rest["total"] == 8


async def test_a_page_logs_the_reading_of_its_own_records_only(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    await issue_many(h, dept, 5)
    r = await h.http.get("/me/records", params={"limit": 2}, headers=citizen.headers)
    shown = [x["id"] for x in r.json()["records"]]
    async with h.vault.ctx.sessions() as s:
        found = [*await s.scalars(select(AuditQueued.entry)), *await s.scalars(select(AuditEntry.entry))]
    reads = [json.loads(e) for e in found if json.loads(e)["action"] == "record.read"]
    assert [sorted(e["record_ids"]) for e in reads] == [sorted(shown)]


async def test_a_bad_cursor_or_limit_is_refused_with_its_reason(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    await issue_many(h, dept, 3)

    def forged(*values: Any) -> str:
        raw = json.dumps(list(values), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    ok = (await h.http.get("/me/records", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    assert ok
    for limit in (0, -1, pages.MAX_LIMIT + 1, "ten"):
        r = await h.http.get("/me/records", params={"limit": limit}, headers=citizen.headers)
        refused(r, "limit")
    for after in (
        "",
        "not a cursor!",
        "x" * (pages.MAX_CURSOR + 1),
        "AAAA",  # base64 of bytes that are no JSON
        forged("grants", 1, "a", 1),  # another list's cursor
        forged("records", "1", "a", 1),  # a key of the wrong type
        forged("records", 1, "a"),  # too short a key
        forged("records", True, "a", 1),
        ok[:-3],  # cut short
    ):
        r = await h.http.get("/me/records", params={"after": after}, headers=citizen.headers)
        reason = refused(r, "after")
        assert "Traceback" not in reason
    # The largest limit is served.
    r = await h.http.get("/me/records", params={"limit": pages.MAX_LIMIT}, headers=citizen.headers)
    assert r.status_code == 200 and len(r.json()["records"]) == 3


async def test_grants_come_a_page_at_a_time_to_the_subject_and_the_grantee(harness: Harness) -> None:
    from tests.grant_conformance import granted, setup

    h = harness
    _, reader, citizen, _ = await setup(h)
    given = [(await granted(h, citizen, settle=False, purpose=f"核验 {i}"))["id"] for i in range(5)]
    await h.settle()

    for actor, path in ((citizen, "/me/grants"), (reader, "/grants")):
        pages_, totals = await follow(h, actor, path, "grants", 2)
        assert [len(p) for p in pages_] == [2, 2, 1] and totals == [5, 5, 5], path
        assert sorted(g["id"] for p in pages_ for g in p) == sorted(given), path
        assert len({g["id"] for p in pages_ for g in p}) == 5
    me = (await h.http.get("/me", headers=citizen.headers)).json()["id"]
    pages_, totals = await follow(h, citizen, f"/subjects/{me}/grants", "grants", 4)
    assert [len(p) for p in pages_] == [4, 1] and totals == [5, 5]

    # One list's cursor is not another's, and a bad limit is refused, on every grant list.
    cursor = (await h.http.get("/me/grants", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    refused(await h.http.get("/grants", params={"after": cursor}, headers=reader.headers), "after")
    records = (await h.http.get("/me/records", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    refused(await h.http.get("/me/grants", params={"after": records}, headers=citizen.headers), "after")
    for path, actor in (("/me/grants", citizen), ("/grants", reader), (f"/subjects/{me}/grants", citizen)):
        refused(await h.http.get(path, params={"limit": pages.MAX_LIMIT + 1}, headers=actor.headers), "limit")


async def delegated(h: Harness, citizen: Actor, record_types: list[str]) -> Actor:
    """An agent the citizen delegated ``record_types`` to, logged in."""
    from keys import SigningKey

    key = SigningKey.generate()
    body = {"agent": key.address, "record_types": record_types, "expires_at": clock.now() + YEAR}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=citizen.headers)).json()["typed_data"]
    r = await h.http.post(
        "/me/delegations",
        json={"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)},
        headers=citizen.headers,
    )
    assert r.status_code == 201, r.text
    await h.settle()
    return await h.login(Actor(key))


async def test_corrections_come_a_page_at_a_time_to_the_subject_its_agent_and_the_issuer(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    issued = await issue_many(h, dept, 4)
    licence = await h.issue(dept)
    await h.settle()
    asked = []
    for record in [*issued, licence]:
        field = "编号" if record in issued else "姓名"
        body = {"reason": "填写有误", "fields": {field: "更正后"}}
        r = await h.http.post(f"/me/records/{record['id']}/corrections", json=body, headers=citizen.headers)
        assert r.status_code == 201, r.text
        asked.append(r.json()["id"])
    me = (await h.http.get("/me", headers=citizen.headers)).json()["id"]

    for actor, path in ((citizen, "/me/corrections"), (citizen, f"/subjects/{me}/corrections"), (dept, "/corrections")):
        pages_, totals = await follow(h, actor, path, "corrections", 2)
        assert [len(p) for p in pages_] == [2, 2, 1] and totals == [5, 5, 5], path
        assert [c["id"] for p in pages_ for c in p] == asked, path  # oldest first, none twice

    # The issuer's list by status: the filter is in the query, so the total is the filtered one.
    r = await h.http.post(f"/corrections/{asked[0]}/reject", json={"note": "无需更正"}, headers=dept.headers)
    assert r.status_code == 200, r.text
    pages_, totals = await follow(h, dept, "/corrections", "corrections", 3, status="requested")
    assert [len(p) for p in pages_] == [3, 1] and totals == [4, 4]
    assert [c["id"] for p in pages_ for c in p] == asked[1:]
    pages_, totals = await follow(h, dept, "/corrections", "corrections", 3, status="rejected")
    assert [[c["id"] for c in p] for p in pages_] == [[asked[0]]] and totals == [1]

    # An agent sees (and counts) only the corrections of record types its delegation covers.
    agent = await delegated(h, citizen, ["licence"])
    pages_, totals = await follow(h, agent, f"/subjects/{me}/corrections", "corrections", 2)
    assert [[c["id"] for c in p] for p in pages_] == [[asked[4]]] and totals == [1]

    # A page logs as read by the issuer only the records it shows.
    async with h.vault.ctx.sessions() as s:
        seen = {*await s.scalars(select(AuditQueued.entry)), *await s.scalars(select(AuditEntry.entry))}
    r = await h.http.get("/corrections", params={"limit": 2}, headers=dept.headers)
    shown = [c["record_id"] for c in r.json()["corrections"]]
    async with h.vault.ctx.sessions() as s:
        found = [*await s.scalars(select(AuditQueued.entry)), *await s.scalars(select(AuditEntry.entry))]
    reads = [json.loads(e) for e in found if e not in seen and json.loads(e)["action"] == "correction.read"]
    assert [sorted(e["record_ids"]) for e in reads] == [sorted(shown)]

    # One list's cursor is not another's, and a bad limit is refused, on every correction list.
    cursor = (await h.http.get("/me/corrections", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    refused(await h.http.get("/corrections", params={"after": cursor}, headers=dept.headers), "after")
    records = (await h.http.get("/me/records", params={"limit": 1}, headers=citizen.headers)).json()["next"]
    refused(await h.http.get("/me/corrections", params={"after": records}, headers=citizen.headers), "after")
    for path, actor in (("/me/corrections", citizen), ("/corrections", dept), (f"/subjects/{me}/corrections", agent)):
        refused(await h.http.get(path, params={"limit": pages.MAX_LIMIT + 1}, headers=actor.headers), "limit")
        refused(await h.http.get(path, params={"after": "not a cursor!"}, headers=actor.headers), "after")


async def test_notifications_come_a_page_at_a_time_all_or_unread(harness: Harness) -> None:
    from tests.correction_conformance import asked, decide, world
    from tests.grant_conformance import granted, read

    h = harness
    w = await world(h)
    licences = [w.licence, *[await h.issue(w.issuer, title=f"驾驶证 {i}") for i in range(3)]]
    await h.settle()
    grant = await granted(h, w.citizen)
    r = await read(h, w.reader, grant["id"])
    assert r.status_code == 200 and len(r.json()["records"]) == 4, r.text
    for licence in licences:
        correction = await asked(h, w.citizen, licence["id"])
        assert (await decide(h, w.issuer, correction["id"], "accept")).status_code == 200

    pages_, totals = await follow(h, w.reader, "/notifications", "notifications", 3)
    assert [len(p) for p in pages_] == [3, 1] and totals == [4, 4]
    walked = [n for p in pages_ for n in p]
    assert sorted(n["record_id"] for n in walked) == sorted(x["id"] for x in licences)
    assert [n["id"] for n in walked] == sorted(n["id"] for n in walked)  # oldest first, none twice

    # Marked read, a notice leaves the unread list and its total, but stays in the whole list.
    r = await h.http.post(f"/notifications/{walked[1]['id']}/read", headers=w.reader.headers)
    assert r.status_code == 200, r.text
    pages_, totals = await follow(h, w.reader, "/notifications", "notifications", 2, unread="true")
    assert [[n["id"] for n in p] for p in pages_] == [[walked[0]["id"], walked[2]["id"]], [walked[3]["id"]]]
    assert totals == [3, 3]
    pages_, totals = await follow(h, w.reader, "/notifications", "notifications", 4)
    assert [len(p) for p in pages_] == [4] and totals == [4]
    # Another department's list is its own: empty, not the reader's.
    pages_, totals = await follow(h, w.bystander, "/notifications", "notifications", 2)
    assert pages_ == [[]] and totals == [0]

    # One list's cursor is not another's, and a bad cursor or limit is refused.
    cursor = (await h.http.get("/notifications", params={"limit": 1}, headers=w.reader.headers)).json()["next"]
    assert cursor
    r = await h.http.get("/corrections", params={"after": cursor}, headers=w.issuer.headers)
    refused(r, "after")
    issuer_cursor = (await h.http.get("/corrections", params={"limit": 1}, headers=w.issuer.headers)).json()["next"]
    refused(await h.http.get("/notifications", params={"after": issuer_cursor}, headers=w.reader.headers), "after")
    refused(await h.http.get("/notifications", params={"after": "not a cursor!"}, headers=w.reader.headers), "after")
    r = await h.http.get("/notifications", params={"limit": pages.MAX_LIMIT + 1}, headers=w.reader.headers)
    refused(r, "limit")
