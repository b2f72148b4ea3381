"""Bulk issuance (``POST /records/bulk``), end to end through the API, for any chain and database.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, YEAR, Actor, Harness, freeze, issuances
from vault import clock
from vault.accounts import subjects
from vault.accounts.identifiers import resident_id_check
from vault.db.audit import AuditEntry, AuditQueued
from vault.db.models import AnchorBatch, OutboxEntry, Record


def citizen_id(n: int) -> str:
    first17 = f"110105198{n % 10}0{1 + n % 9}{10 + n % 18}{n % 1000:03d}"
    return first17 + resident_id_check(first17)


def item(identifier: str = CITIZEN_ID, kind: str = "citizen", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"kind": kind, "identifier": identifier},
        "type": "certificate",
        "title": "无犯罪记录证明",
        "fields": {"结论": "无犯罪记录"},
        "valid_until": clock.now() + YEAR,
    }
    body.update(overrides)
    return body


async def count(h: Harness, model: Any) -> int:
    async with h.vault.ctx.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def issued_entries(h: Harness) -> list[dict[str, Any]]:
    """The access log's ``record.issued`` entries, sequenced or still queued."""
    async with h.vault.ctx.sessions() as s:
        texts = list(await s.scalars(select(AuditQueued.entry))) + list(await s.scalars(select(AuditEntry.entry)))
    entries = [json.loads(t) for t in texts]
    return [e for e in entries if e["action"] == "record.issued"]


async def snapshot(h: Harness) -> tuple[int, int, int, int]:
    return (
        await count(h, Record),
        await count(h, OutboxEntry),
        await count(h, AuditQueued),
        await count(h, AuditEntry),
    )


async def bulk(h: Harness, dept: Actor, items: list[dict[str, Any]]) -> Any:
    return await h.http.post("/records/bulk", json={"items": items}, headers=dept.headers)


async def setup(h: Harness) -> tuple[Actor, list[Actor], list[str]]:
    dept = await h.department("gongan")
    ids = [CITIZEN_ID, citizen_id(1), citizen_id(2)]
    people = [await h.subject(dept, identifier=i, name=f"市民{n}") for n, i in enumerate(ids)]
    firm = await h.subject(dept, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    return dept, [*people, firm], ids


async def test_hundreds_land_in_one_anchor_and_each_verifies_and_decrypts(harness: Harness) -> None:
    h = harness
    dept, people, ids = await setup(h)
    firm_id = (await h.http.get("/me", headers=people[3].headers)).json()["id"]
    entries_before = len(await issued_entries(h))
    items = []
    for n in range(240):
        if n % 4 == 3:  # by pseudonymous id
            items.append(item(subject={"subject_id": firm_id}, type="licence", title="营业执照", fields={"序号": n}))
        else:
            items.append(item(ids[n % 4], fields={"序号": n, "姓名": f"市民{n % 4}"}))
    r = await bulk(h, dept, items)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["count"] == 240 and len(answer["records"]) == 240
    assert answer["records"][3]["subject_id"] == firm_id
    # One access-log entry per subject affected, naming each of its records.
    entries = (await issued_entries(h))[entries_before:]
    assert len(entries) == 4
    assert sorted(i for e in entries for i in e["record_ids"]) == sorted(x["id"] for x in answer["records"])
    assert all(e["actor"] == "gongan" and e["actor_role"] == "department" for e in entries)

    status = await h.http.post(
        "/records/status", json={"ids": [x["id"] for x in answer["records"]]}, headers=dept.headers
    )
    assert status.status_code == 200 and {s["status"] for s in status.json()} == {"pending"}
    await h.settle()
    status = await h.http.post(
        "/records/status", json={"ids": [x["id"] for x in answer["records"]]}, headers=dept.headers
    )
    rows = status.json()
    assert {s["status"] for s in rows} == {"anchored"}
    txs = {s["tx_hash"] for s in rows}
    assert len(txs) == 1 and None not in txs
    assert len({s["root"] for s in rows}) == 1
    assert issuances(h)[rows[0]["root"]] == 1

    by_id = {x["id"]: (n, x) for n, x in enumerate(answer["records"])}
    seen = 0
    for person in people:
        mine = (await h.http.get("/me/records", headers=person.headers)).json()["records"]
        for rec in mine:
            n, issued = by_id[rec["id"]]
            assert rec["credential_hash"] == issued["credential_hash"]
            assert rec["document"]["fields"]["序号"] == n and rec["anchor"]["tx_hash"] in txs
            verdict = (
                await h.http.post("/verify", json={"document": rec["document"], "proof": rec["anchor"]["proof"]})
            ).json()
            assert verdict["valid"], verdict
            seen += 1
    assert seen == 240


async def test_an_invalid_item_anywhere_refuses_the_whole_request(harness: Harness) -> None:
    h = harness
    dept, _, ids = await setup(h)
    good = [item(ids[n % 3], fields={"序号": n}) for n in range(300)]
    before = await snapshot(h)

    def with_bad(index: int, bad: dict[str, Any]) -> list[dict[str, Any]]:
        items = list(good)
        items[index] = bad
        return items

    unknown = citizen_id(7)  # well formed, never registered
    r = await bulk(h, dept, with_bad(250, item(unknown)))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"item 250: no citizen with identifier {unknown} is registered")
    assert r.json()["field"] == "items.250.subject"
    r = await bulk(h, dept, with_bad(7, item("110105194912310021")))
    assert r.status_code == 422 and r.json()["detail"].startswith("item 7:") and "check digit" in r.json()["detail"]
    r = await bulk(h, dept, with_bad(299, item(valid_from=clock.now(), valid_until=clock.now() - 1)))
    assert r.status_code == 422 and r.json()["field"] == "items.299.valid_until", r.text
    r = await bulk(h, dept, with_bad(0, item(subject={"subject_id": "0x" + "ab" * 32})))
    assert r.status_code == 422 and r.json()["field"] == "items.0.subject"
    r = await bulk(h, dept, with_bad(5, item(type="passport")))
    assert r.status_code == 422 and r.json()["detail"].startswith("items.5.type"), r.text
    r = await bulk(h, dept, with_bad(9, item(fields={})))
    assert r.status_code == 422 and r.json()["detail"].startswith("items.9.fields"), r.text
    r = await bulk(h, dept, with_bad(11, item(fields={"x": "长" * 70_000})))
    assert r.status_code == 422 and r.json()["field"] == "items.11.fields", r.text
    r = await h.http.post(
        "/records/bulk", json={"items": with_bad(250, item(unknown)), "dry_run": True}, headers=dept.headers
    )
    assert r.status_code == 422 and r.json()["field"] == "items.250.subject"
    r = await h.http.post("/records/bulk", json={"items": good, "dry_run": True}, headers=dept.headers)
    assert r.status_code == 200 and r.json()["dry_run"] and r.json()["count"] == 300 and r.json()["records"] == []
    assert await snapshot(h) == before
    # The same items, all good, go through.
    r = await bulk(h, dept, good)
    assert r.status_code == 201 and r.json()["count"] == 300


async def test_every_bad_item_is_named_in_one_answer(harness: Harness) -> None:
    h = harness
    dept, _, ids = await setup(h)
    before = await snapshot(h)
    unknown = [citizen_id(n) for n in range(7, 10)]  # well formed, never registered
    items = [item(ids[n % 3], fields={"序号": n}) for n in range(50)]
    items[3] = item(unknown[0])
    items[10] = item(unknown[0])  # the same stranger again: named again, on its own item
    items[12] = item(unknown[1], valid_from=clock.now(), valid_until=clock.now() - 1)  # two problems
    items[20] = item("110105194912310021")
    items[30] = item(subject={"subject_id": "0x" + "ab" * 32})
    items[49] = item(ENTERPRISE_ID, kind="citizen")
    for dry_run in (False, True):
        r = await h.http.post("/records/bulk", json={"items": items, "dry_run": dry_run}, headers=dept.headers)
        assert r.status_code == 422, r.text
        problem = r.json()
        errors = problem["errors"]
        assert [(e["index"], e["field"]) for e in errors] == [
            (3, "subject"),
            (10, "subject"),
            (12, "valid_until"),
            (12, "subject"),
            (20, "subject.identifier"),
            (30, "subject"),
            (49, "subject.identifier"),
        ], errors
        assert errors[0]["reason"] == f"no citizen with identifier {unknown[0]} is registered"
        assert errors[3]["reason"] == f"no citizen with identifier {unknown[1]} is registered"
        assert "check digit" in errors[4]["reason"]
        assert errors[5]["reason"] == f"no subject {'0x' + 'ab' * 32} is registered"
        assert problem["more_errors"] == 0 and problem["field"] == "items.3.subject"
        assert problem["detail"].startswith(f"item 3: no citizen with identifier {unknown[0]}")
        assert "7 problems in 50 refused, nothing was written" in problem["detail"]
        # People the file named by identifier are not renamed by their pseudonymous ids.
        assert all(subjects.subject_id_for(h.vault.ctx, "citizen", u) not in r.text for u in unknown)
    assert await snapshot(h) == before

    # Past the limit the answer names the first 100 and counts the rest.
    many = [item(unknown[2], fields={"序号": n}) for n in range(130)]
    r = await bulk(h, dept, many)
    assert r.status_code == 422
    assert len(r.json()["errors"]) == 100 and r.json()["more_errors"] == 30
    assert [e["index"] for e in r.json()["errors"]] == list(range(100))
    assert await snapshot(h) == before


async def test_only_active_issuers_may_issue_in_bulk(harness: Harness) -> None:
    h = harness
    dept, people, _ = await setup(h)
    verifier = await h.department("yanzheng", roles=["verifier"])
    before = await snapshot(h)
    assert (await bulk(h, people[0], [item()])).status_code == 403
    r = await bulk(h, verifier, [item()])
    assert r.status_code == 403 and "not an active issuer" in r.json()["detail"]
    assert (await h.http.post("/records/bulk", json={"items": [item()]})).status_code == 401
    assert (await h.http.post("/records/status", json={"ids": ["x"]}, headers=people[0].headers)).status_code == 403
    assert await snapshot(h) == before
    # Another department learns nothing about gongan's records.
    r = await bulk(h, dept, [item()])
    rid = r.json()["records"][0]["id"]
    other = await h.http.post("/records/status", json={"ids": [rid]}, headers=verifier.headers)
    assert other.status_code == 200 and other.json() == [
        {"id": rid, "status": "unknown", "root": None, "tx_hash": None, "block_number": None}
    ]


async def test_size_limits(harness: Harness) -> None:
    h = harness
    dept, _, _ = await setup(h)
    before = await snapshot(h)
    r = await bulk(h, dept, [item()] * 10_001)
    assert r.status_code in (413, 422) and "items" in r.json()["detail"], r.text[:300]
    r = await bulk(h, dept, [])
    assert r.status_code == 422
    r = await h.http.post("/records/bulk", json=[item()], headers=dept.headers)
    assert r.status_code == 422
    assert await snapshot(h) == before


async def test_one_request_is_not_split_across_anchors(harness: Harness) -> None:
    """Records issued earlier and still pending do not push part of a bulk request into a
    second batch: it is anchored whole (here with batches of at most 40)."""
    h = harness
    dept, _, ids = await setup(h)
    h.vault.batcher.batch_max = 40
    singles = [await h.issue(dept, title=f"单张 {n}") for n in range(3)]
    freeze(h.app, clock.now() + 60)  # a later second than the singles
    r = await bulk(h, dept, [item(ids[n % 3], fields={"序号": n}) for n in range(40)])
    assert r.status_code == 201
    h.app.dependency_overrides.clear()
    await h.settle()
    async with h.vault.ctx.sessions() as s:
        roots = {row.id: row.batch_root for row in await s.execute(select(Record.id, Record.batch_root))}
        sizes = sorted(int(n) for n in await s.scalars(select(AnchorBatch.size)))
    assert len({roots[x["id"]] for x in r.json()["records"]}) == 1
    assert len({roots[x["id"]] for x in singles}) == 1
    assert sizes == [3, 40]
