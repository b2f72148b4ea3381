"""Corrections (纠错) end to end through the API, for any chain engine and database: the subject
asks, the issuing department decides; on acceptance version N+1 is issued, version N revoked
(on chain once mined, undisclosed at once) and every department that read it is notified.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from keys import SigningKey
from tests.grant_conformance import LICENCE_FIELDS, granted, read
from tests.support.harness import CITIZEN_ID, Actor, Harness
from vault import clock
from vault.db.audit import AuditEntry
from vault.db.corrections import CorrectionNotice, CorrectionRow
from vault.db.models import OutboxEntry, Record

DAY = 24 * 3600
OTHER_ID = "110101199003073511"


@dataclass
class World:
    issuer: Actor
    reader: Actor  # reads version 1 under a grant
    bystander: Actor  # holds a grant but never reads
    citizen: Actor
    licence: dict[str, Any]


async def world(h: Harness) -> World:
    issuer = await h.department("gongan")
    reader = await h.department("renshe", roles=["data_user"])
    bystander = await h.department("minzheng", roles=["data_user"])
    citizen = await h.subject(issuer)
    licence = await h.issue(issuer, fields=LICENCE_FIELDS)
    await h.settle()
    return World(issuer, reader, bystander, citizen, licence)


async def ask(h: Harness, who: Actor, record_id: str, **body: Any) -> Any:
    payload = {"reason": "姓名错误", "fields": {"姓名": "张珊"}, **body}
    return await h.http.post(f"/me/records/{record_id}/corrections", json=payload, headers=who.headers)


async def asked(h: Harness, who: Actor, record_id: str, **body: Any) -> dict[str, Any]:
    r = await ask(h, who, record_id, **body)
    assert r.status_code == 201, r.text
    correction: dict[str, Any] = r.json()
    return correction


async def decide(h: Harness, dept: Actor, correction_id: str, verdict: str, **body: Any) -> Any:
    return await h.http.post(f"/corrections/{correction_id}/{verdict}", json=body, headers=dept.headers)


async def verify(h: Harness, record: dict[str, Any]) -> dict[str, Any]:
    r = await h.http.post("/verify", json={"document": record["document"], "proof": record["anchor"]["proof"]})
    assert r.status_code == 200, r.text
    verdict: dict[str, Any] = r.json()
    return verdict


async def versions(h: Harness, citizen: Actor, record_id: str) -> dict[int, dict[str, Any]]:
    mine = (await h.http.get("/me/records", headers=citizen.headers)).json()["records"]
    return {r["version"]: r for r in mine if r["id"] == record_id}


async def counts(h: Harness) -> tuple[int, ...]:
    async with h.vault.ctx.sessions() as s:
        return tuple(
            [
                int(await s.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Record, CorrectionRow, CorrectionNotice, OutboxEntry)
            ]
        )


async def logged(h: Harness) -> list[dict[str, Any]]:
    await h.settle()  # the submitter's round sequences the queued events into the log
    async with h.vault.ctx.sessions() as s:
        return [json.loads(e) for e in await s.scalars(select(AuditEntry.entry).order_by(AuditEntry.seq))]


async def test_an_accepted_correction_supersedes_the_old_version_and_tells_its_readers(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    grant = await granted(h, w.citizen)
    await granted(h, w.citizen, grantee="minzheng")
    first = await read(h, w.reader, grant["id"])
    assert first.status_code == 200 and first.json()["records"][0]["version"] == 1

    correction = await asked(h, w.citizen, rid)
    assert (
        correction["status"] == "requested" and correction["record_version"] == 1 and correction["issuer"] == "gongan"
    )
    assert correction["reason"] == "姓名错误" and correction["fields"] == {"姓名": "张珊"}
    mine = (await h.http.get("/me/corrections", headers=w.citizen.headers)).json()
    assert [c["id"] for c in mine["corrections"]] == [correction["id"]] and mine["total"] == 1
    r = await h.http.get("/corrections", params={"status": "requested"}, headers=w.issuer.headers)
    pending = r.json()["corrections"]
    assert [c["id"] for c in pending] == [correction["id"]]
    assert pending[0]["fields"] == {"姓名": "张珊"} and pending[0]["previous"] == {"姓名": "张三"}

    r = await decide(h, w.issuer, correction["id"], "accept", note="已核实户籍信息")
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["correction"]["status"] == "accepted" and decision["correction"]["new_version"] == 2
    assert decision["correction"]["decided_by"] == w.issuer.key.address
    assert decision["record"]["version"] == 2 and decision["record"]["status"] == "pending"
    assert decision["notified"] == ["renshe"]

    # At once, before anything is mined: reads under the grant disclose version 2 only.
    now_read = (await read(h, w.reader, grant["id"])).json()
    assert [(x["id"], x["version"], x["fields"]["姓名"]) for x in now_read["records"]] == [(rid, 2, "张珊")]
    latest = (await h.http.get(f"/me/records/{rid}", headers=w.citizen.headers)).json()
    assert latest["version"] == 2 and latest["document"]["fields"] == {**LICENCE_FIELDS, "姓名": "张珊"}
    assert latest["document"]["record"] == {"id": rid, "version": 2}

    await h.settle()
    both = await versions(h, w.citizen, rid)
    assert both[1]["status"] == "revoked" and both[2]["status"] == "anchored"
    old = await verify(h, both[1])
    assert not old["valid"] and old["revoked"]
    assert (await verify(h, both[2]))["valid"]
    assert both[1]["credential_hash"] != both[2]["credential_hash"]

    notices = (await h.http.get("/notifications", headers=w.reader.headers)).json()["notifications"]
    assert [(n["record_id"], n["old_version"], n["new_version"], n["read_at"]) for n in notices] == [(rid, 1, 2, None)]
    assert notices[0]["correction_id"] == correction["id"]
    assert (await h.http.get("/notifications", headers=w.bystander.headers)).json()["notifications"] == []
    assert (await h.http.get("/notifications", headers=w.issuer.headers)).json()["notifications"] == []
    r = await h.http.post(f"/notifications/{notices[0]['id']}/read", headers=w.bystander.headers)
    assert r.status_code == 404
    r = await h.http.post(f"/notifications/{notices[0]['id']}/read", headers=w.reader.headers)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    r = await h.http.get("/notifications", params={"unread": "true"}, headers=w.reader.headers)
    assert r.json() == {"notifications": [], "total": 0, "next": None}

    mine = (await h.http.get("/me/corrections", headers=w.citizen.headers)).json()["corrections"]
    assert mine[0]["status"] == "accepted" and mine[0]["note"] == "已核实户籍信息"

    entries = await logged(h)
    actions = [e["action"] for e in entries]
    for action in (
        "correction.requested",
        "correction.read",
        "correction.accepted",
        "record.revoked",
        "department.notified",
    ):
        assert action in actions, action
    assert actions.count("record.issued") == 2  # version 1, then version 2
    (notified,) = [e for e in entries if e["action"] == "department.notified"]
    assert notified["actor"] == "gongan" and "renshe" in notified["reason"] and notified["record_ids"] == [rid]
    text = json.dumps(entries, ensure_ascii=False)
    assert "张珊" not in text and "姓名错误" not in text and "户籍" not in text and CITIZEN_ID not in text


async def test_a_rejection_leaves_the_record_as_it_was(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    correction = await asked(h, w.citizen, rid)
    before = await counts(h)
    r = await decide(h, w.issuer, correction["id"], "reject", note="  ")
    assert r.status_code == 422
    r = await decide(h, w.issuer, correction["id"], "reject")
    assert r.status_code == 422  # a rejection says why
    assert await counts(h) == before
    r = await decide(h, w.issuer, correction["id"], "reject", note="与户籍登记一致，无需更正")
    assert r.status_code == 200, r.text
    assert r.json()["correction"]["status"] == "rejected" and r.json()["record"] is None and r.json()["notified"] == []
    again = await decide(h, w.issuer, correction["id"], "accept")
    assert again.status_code == 409 and "already rejected" in again.json()["detail"]
    record = (await h.http.get(f"/me/records/{rid}", headers=w.citizen.headers)).json()
    assert record["version"] == 1 and record["status"] == "anchored" and record["document"]["fields"] == LICENCE_FIELDS
    mine = (await h.http.get("/me/corrections", headers=w.citizen.headers)).json()["corrections"]
    assert mine[0]["status"] == "rejected" and mine[0]["note"] == "与户籍登记一致，无需更正"
    # Decided: the record is open to a new request.
    assert (await ask(h, w.citizen, rid, reason="准驾车型错误", fields={"准驾车型": "C2"})).status_code == 201
    actions = [e["action"] for e in await logged(h)]
    assert "correction.rejected" in actions and "record.revoked" not in actions


async def test_refusals_say_why_and_write_nothing(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    other_issuer = await h.department("shebao", roles=["issuer"])
    stranger = await h.subject(w.issuer, identifier=OTHER_ID, name="李四")
    correction = await asked(h, w.citizen, rid)
    before = await counts(h)

    r = await ask(h, w.citizen, rid, fields={"准驾车型": "A1"})
    assert r.status_code == 409 and "open correction request" in r.json()["detail"]
    r = await ask(h, stranger, rid)
    assert r.status_code == 404 and "record not found" in r.json()["detail"]
    r = await ask(h, w.citizen, "01890000-0000-7000-8000-000000000000")
    assert r.status_code == 404
    r = await ask(h, w.issuer, rid)
    assert r.status_code == 403
    for verdict, body in (("accept", {}), ("reject", {"note": "不予更正"})):
        r = await decide(h, other_issuer, correction["id"], verdict, **body)
        assert r.status_code == 403 and "issued the record" in r.json()["detail"]
        r = await decide(h, w.citizen, correction["id"], verdict, **body)
        assert r.status_code == 403
    r = await decide(h, w.issuer, "01890000-0000-7000-8000-000000000000", "accept")
    assert r.status_code == 404 and "correction not found" in r.json()["detail"]
    assert (await h.http.get("/corrections", headers=other_issuer.headers)).json()["corrections"] == []
    assert (await h.http.get("/corrections", params={"status": "open"}, headers=w.issuer.headers)).status_code == 422
    assert await counts(h) == before

    # Malformed requests about a record without an open request.
    second = await h.issue(w.issuer, type="certificate", title="无犯罪记录证明", fields={"结论": "无犯罪记录"})
    await h.settle()
    before = await counts(h)
    malformed: list[tuple[dict[str, Any], int]] = [
        ({"fields": {"结论": "无犯罪记录"}}, 422),  # changes nothing
        ({"fields": {}}, 422),
        ({"reason": "   "}, 422),
        ({"reason": ""}, 422),
        ({"fields": {"结论": "x"}, "extra": 1}, 422),
    ]
    for body, status in malformed:
        r = await ask(h, w.citizen, second["id"], **body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await counts(h) == before

    # A record not anchored yet is corrected once it is: its old version must be revocable on chain.
    fresh = await h.issue(w.issuer, title="第二份驾驶证")
    early = await asked(h, w.citizen, fresh["id"])
    before = await counts(h)
    r = await decide(h, w.issuer, early["id"], "accept")
    assert r.status_code == 409 and "not anchored yet" in r.json()["detail"]
    assert await counts(h) == before
    await h.settle()
    assert (await decide(h, w.issuer, early["id"], "accept")).status_code == 200

    # A revoked record cannot be corrected.
    r = await h.http.post(f"/records/{second['id']}/revoke", json={"reason": "作废"}, headers=w.issuer.headers)
    assert r.status_code == 200
    r = await ask(h, w.citizen, second["id"], fields={"结论": "有"})
    assert r.status_code == 409 and "revoked" in r.json()["detail"]


async def test_a_record_can_be_corrected_again(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    grant = await granted(h, w.citizen)
    assert (await read(h, w.reader, grant["id"])).status_code == 200
    first = await asked(h, w.citizen, rid)
    assert (await decide(h, w.issuer, first["id"], "accept")).json()["notified"] == ["renshe"]
    await h.settle()
    second = await asked(h, w.citizen, rid, reason="准驾车型错误", fields={"准驾车型": "C2"})
    assert second["record_version"] == 2
    r = await decide(h, w.issuer, second["id"], "accept")
    assert r.status_code == 200 and r.json()["record"]["version"] == 3
    # renshe's copy (version 1) is outdated again: it is told of version 3 too.
    assert r.json()["notified"] == ["renshe"]
    await h.settle()
    latest = (await h.http.get(f"/me/records/{rid}", headers=w.citizen.headers)).json()
    assert latest["version"] == 3 and latest["document"]["fields"] == {
        **LICENCE_FIELDS,
        "姓名": "张珊",
        "准驾车型": "C2",
    }
    all_versions = await versions(h, w.citizen, rid)
    assert [all_versions[v]["status"] for v in (1, 2, 3)] == ["revoked", "revoked", "anchored"]
    assert (await verify(h, all_versions[3]))["valid"] and not (await verify(h, all_versions[2]))["valid"]


async def test_an_agent_asks_within_its_delegation(harness: Harness) -> None:
    h = harness
    w = await world(h)
    rid = w.licence["id"]
    sid = (await h.http.get("/me", headers=w.citizen.headers)).json()["id"]
    key = SigningKey.generate()
    body = {"agent": key.address, "record_types": ["certificate"], "expires_at": clock.now() + 10 * DAY}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=w.citizen.headers)).json()["typed_data"]
    r = await h.http.post(
        "/me/delegations",
        json={"message": typed["message"], "signature": w.citizen.key.sign_typed_data(typed)},
        headers=w.citizen.headers,
    )
    assert r.status_code == 201, r.text
    await h.settle()
    agent = await h.login(Actor(key))
    payload = {"reason": "姓名错误", "fields": {"姓名": "张珊"}}
    r = await h.http.post(f"/subjects/{sid}/records/{rid}/corrections", json=payload, headers=agent.headers)
    assert r.status_code == 403 and "does not cover licence" in r.json()["detail"]
    certificate = await h.issue(
        w.issuer, type="certificate", title="无犯罪记录证明", fields={"结论": "无犯罪记录", "姓名": "张三"}
    )
    await h.settle()
    r = await h.http.post(
        f"/subjects/{sid}/records/{certificate['id']}/corrections", json=payload, headers=agent.headers
    )
    assert r.status_code == 201 and r.json()["requested_by"] == key.address
    listed = (await h.http.get(f"/subjects/{sid}/corrections", headers=agent.headers)).json()["corrections"]
    assert [c["id"] for c in listed] == [r.json()["id"]]
    stranger = await h.subject(w.issuer, identifier=OTHER_ID, name="李四")
    r = await h.http.post(f"/subjects/{sid}/records/{rid}/corrections", json=payload, headers=stranger.headers)
    assert r.status_code == 403 and "do not act for this subject" in r.json()["detail"]


async def test_key_rotation_rewraps_what_a_correction_sealed(harness: Harness) -> None:
    h = harness
    w = await world(h)
    correction = await asked(h, w.citizen, w.licence["id"])
    r = await decide(h, w.issuer, correction["id"], "reject", note="需提供户籍证明")
    assert r.status_code == 200, r.text
    async with h.vault.ctx.sessions() as s:
        row = await s.get(CorrectionRow, correction["id"])
        assert row is not None
        before = (row.wrapped_key, row.note_key, row.body, row.note_body)
    r = await h.http.post("/me/keys/rotate", headers=w.citizen.headers)
    assert r.status_code == 200 and r.json()["key_version"] == 2
    async with h.vault.ctx.sessions() as s:
        row = await s.get(CorrectionRow, correction["id"])
        assert row is not None
        assert row.wrapped_key != before[0] and row.note_key != before[1]
        assert (row.body, row.note_body) == before[2:]  # bodies untouched: only keys rewrapped
    mine = (await h.http.get("/me/corrections", headers=w.citizen.headers)).json()["corrections"]
    assert mine[0]["reason"] == "姓名错误" and mine[0]["note"] == "需提供户籍证明"
