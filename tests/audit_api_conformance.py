"""The access log through the API, for any chain engine and database: an auditor traces and
exports exactly the matching entries, checks heads and proofs and runs the verification; a
subject sees who accessed its data, each entry proved against the head anchored on chain;
each role reads only what it may, and no personal data ever appears in what the log serves.

Test modules provide a ``harness`` fixture (tests/support/harness.py)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from keys import SigningKey, recover_message
from tests.delegation_conformance import appoint
from tests.grant_conformance import LICENCE_FIELDS, granted, read, setup
from tests.support.harness import CITIZEN_ID, Actor, Harness, freeze
from vault import clock
from vault.audit import log as audit_log
from vault.audit.access_log import verify_access_entry
from vault.audit.tree import leaf_hash, verify_consistency, verify_inclusion

# Personal data used in the setup: none of it may appear in anything the log serves.
CANARY_NAME = "欧阳金花"
CANARY_ID = "110101199003073511"
CANARIES = [CANARY_NAME, CANARY_ID, "张三", CITIZEN_ID, LICENCE_FIELDS["档案编号"], "东城区", "示例路1号"]
LATER = 600  # the last read happens ten minutes later (the API's clock is frozen for it; tokens last 15)


@dataclass
class World:
    auditor: Actor
    issuer: Actor
    reader: Actor
    citizen: Actor
    other: Actor
    citizen_id: str
    other_id: str
    grant: dict[str, Any]
    licence: dict[str, Any]
    head: Any  # the anchored AuditHead that covers everything but the last read
    later: int  # when the last read (after the head) happened


async def register_auditor(h: Harness, key: SigningKey | None = None, name: str = "市审计局 审计员") -> Actor:
    actor = Actor(key or SigningKey.generate())
    r = await h.http.post("/auditors", json={"address": actor.key.address, "name": name}, headers=h.admin.headers)
    assert r.status_code == 201, r.text
    assert r.json()["address"] == actor.key.address
    return await h.login(actor)


async def world(h: Harness) -> World:
    """Registrations, issues, a grant used twice and refused once, a public verification, the
    citizen reading its own file, another citizen; an anchored head; then one more read."""
    auditor = await register_auditor(h)
    issuer, reader, citizen, licence = await setup(h)
    other = await h.subject(issuer, identifier=CANARY_ID, name=CANARY_NAME)
    await h.issue(issuer, identifier=CANARY_ID, title="学位证书", fields={"姓名": CANARY_NAME, "身份证号": CANARY_ID})
    grant = await granted(h, citizen)
    assert (await read(h, reader, grant["id"])).status_code == 200
    refused = await read(h, reader, grant["id"], fields=["档案编号"])
    assert refused.status_code == 403
    assert (await read(h, reader, grant["id"], fields=["准驾车型"])).status_code == 200
    await h.settle()
    assert (await h.http.post("/verify", json={"credential_hash": licence["credential_hash"]})).status_code == 200
    assert (await h.http.get("/me/records", headers=citizen.headers)).status_code == 200  # the citizen's own read
    ids = [(await h.http.get("/me", headers=a.headers)).json()["id"] for a in (citizen, other)]
    await h.settle()
    head = await h.vault.sequencer.sign_head(clock.now())
    assert head is not None
    await h.settle()
    later = clock.now() + LATER
    freeze(h.app, later)
    try:
        assert (await read(h, reader, grant["id"], fields=["姓名"])).status_code == 200
    finally:
        h.app.dependency_overrides.clear()
    await h.settle()  # sequenced, but no head covers it yet
    return World(auditor, issuer, reader, citizen, other, ids[0], ids[1], grant, licence, head, later)


def no_personal_data(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{canary!r} in an audit response"


async def get(h: Harness, actor: Actor, path: str, **params: Any) -> Any:
    r = await h.http.get(path, params=params, headers=actor.headers)
    assert r.status_code == 200, (path, params, r.text)
    no_personal_data(r.text)
    return r.json()


async def all_pages(h: Harness, actor: Actor, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Follows `next` to the end; checks every page but the last is full."""
    found: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = await get(
            h, actor, "/audit/entries", limit=limit, **params, **({} if after is None else {"after_seq": after})
        )
        found += page["entries"]
        if page["next"] is None:
            return found
        assert len(page["entries"]) == limit and page["next"] == page["entries"][-1]["seq"]
        after = page["next"]


def matching(entries: list[dict[str, Any]], **want: Any) -> list[int]:
    return [e["seq"] for e in entries if all(e["entry"].get(k) == v for k, v in want.items())]


# Two tests, each over one world: setting a world up on a real node costs more than checking it.


async def test_an_auditor_traces_and_exports_and_each_role_reads_only_what_it_may(harness: Harness) -> None:
    w = await world(harness)
    await traces_filter_page_and_export(harness, w)
    await each_role_reads_only_what_it_may(harness, w)


async def test_a_subject_sees_who_accessed_its_data_and_an_auditor_proves_the_log(harness: Harness) -> None:
    w = await world(harness)
    await the_subject_sees_who_accessed_its_data(harness, w)
    await heads_proofs_and_verification(harness, w)


async def traces_filter_page_and_export(h: Harness, w: World) -> None:
    everything = await all_pages(h, w.auditor, limit=1000)
    n = len(everything)
    assert [e["seq"] for e in everything] == list(range(n)) and n > w.head.tree_size  # the last read is in, unheaded
    for e in everything:
        assert e["entry"]["seq"] == e["seq"]
        assert bytes.fromhex(e["leaf_hash"][2:]) == leaf_hash(audit_log.canonical(e["entry"]))

    # Cursors cover everything once, in either order, whatever the page size.
    assert await all_pages(h, w.auditor, limit=3) == everything
    newest = await all_pages(h, w.auditor, limit=4, order="newest")
    assert newest == everything[::-1]

    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"subject_id": w.citizen_id}, matching(everything, subject_id=w.citizen_id)),
        ({"subject_id": w.other_id.upper().replace("0X", "0x")}, matching(everything, subject_id=w.other_id)),
        ({"department": "renshe"}, matching(everything, actor="renshe", actor_role="department")),
        ({"department": "gongan"}, [e["seq"] for e in everything if e["entry"]["actor"] == "gongan"]),
        ({"official": w.reader.key.address.lower()}, matching(everything, official=w.reader.key.address)),
        ({"grant_id": w.grant["id"]}, matching(everything, grant_id=w.grant["id"])),
        ({"action": "grant.used"}, matching(everything, action="grant.used")),
        ({"outcome": "refused"}, matching(everything, outcome="refused")),
        (
            {"department": "renshe", "outcome": "ok", "action": "grant.used"},
            matching(everything, actor="renshe", action="grant.used", outcome="ok"),
        ),
        ({"from": w.later}, [e["seq"] for e in everything if e["entry"]["at"] >= w.later]),
        ({"until": w.later}, [e["seq"] for e in everything if e["entry"]["at"] < w.later]),
        ({"from": w.later, "until": w.later + 1, "action": "grant.used"}, [n - 1]),
        ({"action": "no.such"}, []),
    ]
    for params, expected in cases:
        assert await all_pages(h, w.auditor, limit=2, **params) == [everything[s] for s in expected], params
    # What the setup did is all there, by the right people.
    used = [everything[s]["entry"] for s in matching(everything, action="grant.used")]
    assert len(used) == 3 and {u["official"] for u in used} == {w.reader.key.address}
    assert {u["purpose_code"] for u in used} == {101} and len(matching(everything, outcome="refused")) == 1
    assert {
        "department.registered",
        "auditor.registered",
        "subject.registered",
        "record.issued",
        "grant.created",
        "credential.verified",
        "record.read",
    } <= {e["entry"]["action"] for e in everything}

    # Exports stream the same entries: JSON Lines, and CSV whose last column is the entry.
    r = await h.http.get("/audit/export", params={"format": "jsonl"}, headers=w.auditor.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    no_personal_data(r.text)
    assert [json.loads(line) for line in r.text.splitlines()] == everything
    r = await h.http.get(
        "/audit/export",
        params={"format": "csv", "subject_id": w.citizen_id, "order": "newest"},
        headers=w.auditor.headers,
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    no_personal_data(r.text)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    citizen_newest = [everything[s] for s in reversed(matching(everything, subject_id=w.citizen_id))]
    assert [
        {"seq": int(row["seq"]), "leaf_hash": row["leaf_hash"], "entry": json.loads(row["entry"])} for row in rows
    ] == citizen_newest
    assert all(row["subject_id"] == w.citizen_id and int(row["at"]) == json.loads(row["entry"])["at"] for row in rows)
    r = await h.http.get(
        "/audit/export", params={"format": "jsonl", "action": "grant.used", "limit": 2}, headers=w.auditor.headers
    )
    assert [json.loads(line)["seq"] for line in r.text.splitlines()] == matching(everything, action="grant.used")[:2]


async def each_role_reads_only_what_it_may(h: Harness, w: World) -> None:
    audit_paths = [
        "/audit/entries",
        "/audit/export",
        "/audit/heads",
        "/audit/proofs/inclusion?seq=0&size=1",
        "/audit/proofs/consistency?first=1&second=2",
    ]
    for actor in (w.issuer, w.reader, w.citizen, h.admin):
        for path in audit_paths:
            r = await h.http.get(path, headers=actor.headers)
            assert r.status_code == 403 and "needs an auditor" in r.json()["detail"], (path, r.text)
        r = await h.http.post("/audit/verify", headers=actor.headers)
        assert r.status_code == 403, r.text
    for path in audit_paths:
        assert (await h.http.get(path)).status_code == 401
    # An auditor reads the log, never personal data.
    for method, path, body in [
        ("GET", "/me/records", None),
        ("GET", "/me", None),
        ("GET", "/me/access-log", None),
        ("GET", "/grants", None),
        ("POST", f"/grants/{w.grant['id']}/read", {}),
        ("GET", f"/subjects/{w.citizen_id}/access-log", None),
        ("GET", f"/subjects/{w.citizen_id}/grants", None),
        ("GET", "/auditors", None),
    ]:
        r = await h.http.request(method, path, json=body, headers=w.auditor.headers)
        assert r.status_code == 403, (path, r.text)
        no_personal_data(r.text)
    # Only the governance admin registers auditors; an address is registered once.
    stranger = SigningKey.generate().address
    r = await h.http.post("/auditors", json={"address": stranger, "name": "x"}, headers=w.auditor.headers)
    assert r.status_code == 403
    for address in (w.auditor.key.address, w.reader.key.address, w.citizen.key.address):
        r = await h.http.post("/auditors", json={"address": address, "name": "again"}, headers=h.admin.headers)
        assert r.status_code == 409 and "already registered" in r.json()["detail"]
    r = await h.http.post("/auditors", json={"address": "0x1234", "name": "x"}, headers=h.admin.headers)
    assert r.status_code == 422
    listed = (await h.http.get("/auditors", headers=h.admin.headers)).json()
    assert [a["address"] for a in listed] == [w.auditor.key.address]
    token = (await h.http.post("/auth/challenge", json={"address": w.auditor.key.address})).json()["challenge"]
    r = await h.http.post("/auth/token", json={"challenge": token, "signature": w.auditor.key.sign_message(token)})
    assert r.json()["role"] == "auditor"

    # Every audit response, from every endpoint: no name, no ID number, no field value.
    texts = []
    for path in audit_paths:
        r = await h.http.get(path, headers=w.auditor.headers)
        assert r.status_code == 200, (path, r.text)
        texts.append(r.text)
    r = await h.http.get("/audit/export", params={"format": "csv"}, headers=w.auditor.headers)
    texts.append(r.text)
    for actor in (w.citizen, w.other):
        texts.append((await h.http.get("/me/access-log", headers=actor.headers)).text)
    no_personal_data(*texts)


async def the_subject_sees_who_accessed_its_data(h: Harness, w: World) -> None:
    log = await get(h, w.citizen, "/me/access-log")
    assert log["subject_id"] == w.citizen_id
    head = log["head"]
    assert head["tree_size"] == w.head.tree_size and head["root"] == "0x" + w.head.root.hex()
    audit = h.vault.ctx.chain.audit
    assert audit is not None
    on_chain = {a.tree_size: a for a in audit.heads()}[head["tree_size"]]
    assert on_chain.root.hex() == head["root"][2:] and "0x" + on_chain.tx_hash.hex() == head["tx_hash"]
    assert head["block_number"] == on_chain.block_number

    entries = log["entries"]
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)  # newest first
    actions = [e["action"] for e in entries]
    assert "record.read" not in actions  # the citizen's own reads are not "someone else"
    assert {
        "subject.registered",
        "record.issued",
        "grant.created",
        "grant.used",
        "grant.refused",
        "credential.verified",
    } <= set(actions)
    assert all(e["entry"]["subject_id"] == w.citizen_id for e in entries)
    used = [e for e in entries if e["action"] == "grant.used"]
    assert len(used) == 3
    for e in used:
        assert e["department"] == "renshe" and e["official"] == w.reader.key.address and e["outcome"] == "ok"
        assert e["purpose_code"] == 101 and e["grant_id"] == w.grant["id"] and e["record_types"] == ["licence"]
    (refusal,) = [e for e in entries if e["action"] == "grant.refused"]
    assert refusal["outcome"] == "refused" and refusal["reason"] == "field_outside_scope"

    # The last read is newer than the anchored head: pending, no proof yet.
    newest = entries[0]
    assert newest["action"] == "grant.used" and newest["at"] == w.later and newest["seq"] >= head["tree_size"]
    assert newest["pending"] and newest["proof"] is None
    proved = entries[1:]
    assert proved and all(not e["pending"] for e in proved)
    for e in proved:
        p = e["proof"]
        assert (p["tree_size"], p["root"], p["tx_hash"], p["block_number"]) == (
            head["tree_size"],
            head["root"],
            head["tx_hash"],
            head["block_number"],
        )
        assert verify_access_entry(
            json.dumps(e["entry"], ensure_ascii=False), e["seq"], p["path"], p["tree_size"], p["root"]
        )
        assert e["leaf_hash"] == "0x" + leaf_hash(audit_log.canonical(e["entry"])).hex()
    # An entry altered in any way, or put elsewhere, does not verify.
    e = used[-1]
    p = e["proof"]
    forged = {**e["entry"], "official": w.issuer.key.address}
    assert not verify_access_entry(json.dumps(forged), e["seq"], p["path"], p["tree_size"], p["root"])
    assert not verify_access_entry(json.dumps(e["entry"]), e["seq"] + 1, p["path"], p["tree_size"], p["root"])
    assert not verify_access_entry(json.dumps(e["entry"]), e["seq"], p["path"][:-1], p["tree_size"], p["root"])
    assert not verify_access_entry(json.dumps(e["entry"]), e["seq"], p["path"], p["tree_size"], "0x" + "00" * 32)
    assert not verify_access_entry("not json", e["seq"], p["path"], p["tree_size"], p["root"])

    # Pages: oldest first, two at a time, cover the same entries.
    pages: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = await get(
            h, w.citizen, "/me/access-log", order="oldest", limit=2, **({} if after is None else {"after_seq": after})
        )
        pages += page["entries"]
        if page["next"] is None:
            break
        after = page["next"]
    assert pages == entries[::-1]

    # The other citizen sees only its own; nobody else's access log is open to it.
    theirs = await get(h, w.other, "/me/access-log")
    assert theirs["entries"] and all(e["entry"]["subject_id"] == w.other_id for e in theirs["entries"])
    assert not {e["seq"] for e in theirs["entries"]} & {e["seq"] for e in entries}
    r = await h.http.get(f"/subjects/{w.citizen_id}/access-log", headers=w.other.headers)
    assert r.status_code == 403
    # An agent of the citizen's sees the entries about the record types of its delegation
    # (with its own appointment in it), and nothing else.
    agent_key = SigningKey.generate()
    await appoint(h, w.citizen, agent_key, types=["licence"])
    agent = await h.login(Actor(agent_key))
    by_agent = await get(h, agent, f"/subjects/{w.citizen_id}/access-log")
    assert by_agent["entries"][0]["action"] == "delegation.set"
    licences = [e for e in entries if e["record_types"] and set(e["record_types"]) <= {"licence"}]
    assert len(licences) < len(entries) and by_agent["entries"][1:] == licences
    r = await h.http.get(f"/subjects/{w.other_id}/access-log", headers=agent.headers)
    assert r.status_code == 403


async def heads_proofs_and_verification(h: Harness, w: World) -> None:
    second = await h.vault.sequencer.sign_head(clock.now())
    assert second is not None and second.tree_size > w.head.tree_size
    await h.settle()
    found = await get(h, w.auditor, "/audit/heads")
    log_key = found["log_key"]
    assert log_key == h.vault.sequencer.log_key.address
    assert [hd["tree_size"] for hd in found["heads"]] == [second.tree_size, w.head.tree_size]
    for hd in found["heads"]:
        assert hd["status"] == "anchored" and hd["on_chain"] and hd["tx_hash"].startswith("0x") and hd["block_number"]
        text = audit_log.head_text(hd["tree_size"], bytes.fromhex(hd["root"][2:]), hd["signed_at"])
        assert recover_message(text, hd["signature"]) == log_key
    anchored = {(a["tree_size"], a["root"]) for a in found["anchored"]}
    assert {(hd["tree_size"], hd["root"]) for hd in found["heads"]} <= anchored
    assert found["anchor_contract"] == h.vault.ctx.chain.audit.address  # type: ignore[union-attr]
    older = await get(h, w.auditor, "/audit/heads", limit=1)
    assert [hd["tree_size"] for hd in older["heads"]] == [second.tree_size] and older["next"] == second.tree_size
    rest = await get(h, w.auditor, "/audit/heads", limit=1, before_size=older["next"])
    assert [hd["tree_size"] for hd in rest["heads"]] == [w.head.tree_size] and rest["next"] is None

    size, root = second.tree_size, second.root
    for seq in (0, w.head.tree_size - 1, size - 1):
        proof = await get(h, w.auditor, "/audit/proofs/inclusion", seq=seq, size=size)
        assert proof["root"] == "0x" + root.hex() and proof["head"]["signature"] == second.signature
        path = [bytes.fromhex(p[2:]) for p in proof["proof"]]
        assert verify_inclusion(seq, size, bytes.fromhex(proof["leaf_hash"][2:]), path, root)
        assert verify_access_entry(json.dumps(proof["entry"]), seq, proof["proof"], size, proof["root"])
    c = await get(h, w.auditor, "/audit/proofs/consistency", first=w.head.tree_size, second=size)
    assert (c["first_root"], c["second_root"]) == ("0x" + w.head.root.hex(), "0x" + root.hex())
    assert verify_consistency(w.head.tree_size, size, w.head.root, root, [bytes.fromhex(p[2:]) for p in c["proof"]])

    # Bad input is a problem document with a reason, never a 500.
    bad: list[tuple[str, dict[str, Any]]] = [
        ("/audit/proofs/inclusion", {"seq": 0, "size": size + 1000}),
        ("/audit/proofs/inclusion", {"seq": size, "size": size}),
        ("/audit/proofs/inclusion", {"seq": -1, "size": 1}),
        ("/audit/proofs/inclusion", {"seq": "x", "size": 1}),
        ("/audit/proofs/inclusion", {"seq": 0, "size": 2**64}),
        ("/audit/proofs/consistency", {"first": size, "second": 1}),
        ("/audit/proofs/consistency", {"first": 1, "second": 10**9}),
        ("/audit/entries", {"after_seq": -1}),
        ("/audit/entries", {"after_seq": "next"}),
        ("/audit/entries", {"after_seq": 2**70}),
        ("/audit/entries", {"limit": 0}),
        ("/audit/entries", {"limit": 1001}),
        ("/audit/entries", {"order": "random"}),
        ("/audit/entries", {"from": 10, "until": 10}),
        ("/audit/entries", {"official": "0x12"}),
        ("/audit/entries", {"subject_id": "zhang-san"}),
        ("/audit/entries", {"outcome": "maybe"}),
        ("/audit/export", {"format": "xml"}),
        ("/audit/export", {"limit": 0}),
        ("/audit/export", {"from": 20, "until": 10}),
        ("/audit/heads", {"limit": 5000}),
    ]
    for path, params in bad:
        r = await h.http.get(path, params=params, headers=w.auditor.headers)
        assert r.status_code == 422, (path, params, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]
    for params in ({"after_seq": -1}, {"limit": 0}):
        r = await h.http.get("/me/access-log", params=params, headers=w.citizen.headers)
        assert r.status_code == 422

    r = await h.http.post("/audit/verify", headers=w.auditor.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    no_personal_data(r.text)
    assert report["ok"] and report["findings"] == [], report
    assert report["tree_size"] >= size and report["entries_checked"] == report["tree_size"]
    assert report["heads_checked"] >= 2 and report["anchors_checked"] >= 2
