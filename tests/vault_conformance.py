"""The vault's behaviour, end to end through the API, for any chain engine and database.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py):
the unit run uses the in-process chain and SQLite, the integration runs anvil with SQLite
and PostgreSQL.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select, update

from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, YEAR, Harness, freeze
from vault import clock
from vault.db.models import OutboxEntry, Record


async def verify(h: Harness, body: dict[str, Any]) -> dict[str, Any]:
    r = await h.http.post("/verify", json=body)
    assert r.status_code == 200, r.text
    verdict: dict[str, Any] = r.json()
    return verdict


def failed_checks(verdict: dict[str, Any]) -> set[str]:
    return {c["name"] for c in verdict["checks"] if not c["passed"]}


async def count(h: Harness, model: Any) -> int:
    async with h.vault.ctx.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_issue_anchor_read_and_verify(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    assert record["status"] == "pending" and record["anchor"] is None
    pending = await verify(h, {"credential_hash": record["credential_hash"]})
    assert not pending["valid"] and failed_checks(pending) == {"anchored"}

    await h.settle()
    r = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["status"] == "anchored"
    assert mine["anchor"]["tx_hash"].startswith("0x") and mine["anchor"]["block_number"] > 0
    assert mine["document"]["fields"] == {"姓名": "张三", "准驾车型": "C1"}
    assert mine["document"]["issuer"]["code"] == "gongan"

    by_doc = await verify(h, {"document": mine["document"], "proof": mine["anchor"]["proof"]})
    assert by_doc["valid"], by_doc
    assert by_doc["issuer"]["code"] == "gongan" and by_doc["tx_hash"] == mine["anchor"]["tx_hash"]
    assert not by_doc["revoked"]
    assert (await verify(h, {"document": mine["document"]}))["valid"]
    assert (await verify(h, {"credential_hash": record["credential_hash"], "proof": mine["anchor"]["proof"]}))["valid"]


async def test_pending_credentials_share_one_anchor(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    issued = [await h.issue(dept, title=f"证明 {i}") for i in range(5)]
    await h.settle()
    r = await h.http.get("/me/records", headers=citizen.headers)
    mine = {rec["id"]: rec for rec in r.json()["records"]}
    roots = {mine[rec["id"]]["anchor"]["root"] for rec in issued}
    txs = {mine[rec["id"]]["anchor"]["tx_hash"] for rec in issued}
    assert len(roots) == 1 and len(txs) == 1
    for rec in issued:
        assert (
            await verify(h, {"document": mine[rec["id"]]["document"], "proof": mine[rec["id"]]["anchor"]["proof"]})
        )["valid"]


async def _anchored_document(h: Harness, dept: Any, citizen: Any, **overrides: Any) -> dict[str, Any]:
    record = await h.issue(dept, **overrides)
    await h.settle()
    r = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
    mine: dict[str, Any] = r.json()
    return mine


async def test_tampered_document_and_wrong_proof_are_invalid(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    a = await _anchored_document(h, dept, citizen)
    b = await _anchored_document(h, dept, citizen, title="学位证书")
    forged = copy.deepcopy(a["document"])
    forged["fields"]["准驾车型"] = "A1"
    verdict = await verify(h, {"document": forged, "proof": a["anchor"]["proof"]})
    assert not verdict["valid"] and "anchored" in failed_checks(verdict)
    wrong = await verify(h, {"document": a["document"], "proof": ["0x" + "11" * 32]})
    assert not wrong["valid"] and "anchored" in failed_checks(wrong)
    # b was anchored alone, so a's proof does not lead to b's root.
    swapped = await verify(h, {"document": b["document"], "proof": a["anchor"]["proof"] or ["0x" + "22" * 32]})
    assert not swapped["valid"]


async def test_a_structurally_damaged_document_is_an_invalid_verdict(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    mine = await _anchored_document(h, dept, citizen)
    document, proof = mine["document"], mine["anchor"]["proof"]

    def damaged(change: Any) -> dict[str, Any]:
        d: dict[str, Any] = copy.deepcopy(document)
        change(d)
        return d

    cases = {
        "a key removed": (damaged(lambda d: d.pop("title")), "document lacks title"),
        "a field removed": (damaged(lambda d: d["fields"].pop("准驾车型")), "salts must name"),
        "a key added": (damaged(lambda d: d.update(备注="伪造")), "keys its issuer did not write: 备注"),
        "a field added": (damaged(lambda d: d["fields"].update(准驾车型2="A1")), "salts must name"),
        "an issuer key added": (damaged(lambda d: d["issuer"].update(name="x")), "issuer must hold exactly"),
        "a type changed": (
            damaged(lambda d: d.update(valid_from=str(d["valid_from"]))),
            "valid_from must be an integer",
        ),
        "fields retyped": (damaged(lambda d: d.update(fields=list(d["fields"]))), "must be an object"),
        "a header value retyped": (damaged(lambda d: d.update(status_index="7")), "status_index"),
    }
    for what, (body, reason) in cases.items():
        for with_proof in (True, False):
            verdict = await verify(h, {"document": body, **({"proof": proof} if with_proof else {})})
            assert not verdict["valid"] and failed_checks(verdict) == {"format"}, (what, verdict)
            assert reason in verdict["checks"][0]["reason"], (what, verdict["checks"])
            assert verdict["credential_hash"] is None and verdict["issuer"] is None
    bad_proof = await verify(h, {"document": document, "proof": ["0x12"]})
    assert failed_checks(bad_proof) == {"format"} and "proof" in bad_proof["checks"][0]["reason"]
    # The undamaged document still verifies.
    assert (await verify(h, {"document": document, "proof": proof}))["valid"]


async def test_revoked_credential_is_refused(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    first = await h.issue(dept)
    second = await h.issue(dept, title="第二份")
    await h.settle()
    r = await h.http.post(f"/records/{first['id']}/revoke", json={"reason": "lost"}, headers=dept.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoking"
    again = await h.http.post(f"/records/{first['id']}/revoke", json={}, headers=dept.headers)
    assert again.status_code == 409
    await h.settle()
    doc = (await h.http.get(f"/me/records/{first['id']}", headers=citizen.headers)).json()
    assert doc["status"] == "revoked"
    verdict = await verify(h, {"document": doc["document"], "proof": doc["anchor"]["proof"]})
    assert not verdict["valid"] and verdict["revoked"] and failed_checks(verdict) == {"not_revoked"}
    # Revoking one leaf of a batch leaves its sibling valid.
    other = (await h.http.get(f"/me/records/{second['id']}", headers=citizen.headers)).json()
    assert (await verify(h, {"document": other["document"], "proof": other["anchor"]["proof"]}))["valid"]


async def test_only_the_issuer_may_revoke(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    other = await h.department("renshe")
    await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    r = await h.http.post(f"/records/{record['id']}/revoke", json={}, headers=other.headers)
    assert r.status_code == 403 and "issuing department" in r.json()["detail"]


async def test_expired_and_not_yet_valid_credentials(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    now = clock.now()
    old = await _anchored_document(h, dept, citizen, valid_from=now - 2 * YEAR, valid_until=now - YEAR)
    verdict = await verify(h, {"document": old["document"], "proof": old["anchor"]["proof"]})
    assert not verdict["valid"] and "document_validity" in failed_checks(verdict)
    assert any(c["reason"] == "expired" for c in verdict["checks"])
    fresh = await _anchored_document(h, dept, citizen, valid_until=now + YEAR)
    freeze(h.app, now + 2 * YEAR)
    later = await verify(h, {"document": fresh["document"], "proof": fresh["anchor"]["proof"]})
    assert not later["valid"] and {"document_validity", "anchor_validity"} <= failed_checks(later)
    freeze(h.app, now - YEAR)
    early = await verify(h, {"document": fresh["document"], "proof": fresh["anchor"]["proof"]})
    assert not early["valid"] and any(c["reason"] == "not yet valid" for c in early["checks"])
    h.app.dependency_overrides.clear()


async def test_issuers_must_be_registered_active_issuers(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    await h.subject(registrar)
    verifier = await h.department("yanzheng", roles=["verifier"])
    before = await count(h, Record)
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "licence",
            "title": "x",
            "fields": {"a": 1},
            "valid_until": clock.now() + YEAR,
        },
        headers=verifier.headers,
    )
    assert r.status_code == 403 and "not an active issuer" in r.json()["detail"]
    r = await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)
    assert r.status_code == 200 and r.json()["active"] is False
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "licence",
            "title": "x",
            "fields": {"a": 1},
            "valid_until": clock.now() + YEAR,
        },
        headers=registrar.headers,
    )
    assert r.status_code == 403 and "deactivated" in r.json()["detail"]
    assert await count(h, Record) == before
    await h.settle()
    assert h.vault.ctx.chain.client.has_role(_chain_address(h, "gongan"), 1) is False


def _chain_address(h: Harness, code: str) -> str:
    return h.vault.ctx.keystore.address_of(f"dept-{code}-chain")


async def test_issuer_deactivated_before_anchoring_fails_cleanly(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    r = await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)
    assert r.status_code == 200
    await h.settle()
    await h.http.post("/departments/gongan/reactivate", headers=h.admin.headers)
    await h.settle()
    mine = (await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "failed" and "NotIssuer" in mine["status_reason"]
    verdict = await verify(h, {"credential_hash": record["credential_hash"]})
    assert not verdict["valid"]


async def test_deactivating_an_issuer_withdraws_trust_in_what_it_anchored(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    assert (await verify(h, {"credential_hash": record["credential_hash"]}))["valid"]
    assert (await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)).status_code == 200
    await h.settle()
    verdict = await verify(h, {"credential_hash": record["credential_hash"]})
    failed = {c["name"]: c["reason"] for c in verdict["checks"] if not c["passed"]}
    assert list(failed) == ["issuer_registered"] and "deactivated" in failed["issuer_registered"]


async def test_roles_are_enforced(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    body = {"code": "evil", "name": "x", "roles": ["issuer"], "auth_address": "0x" + "ab" * 20}
    assert (await h.http.post("/departments", json=body, headers=citizen.headers)).status_code == 403
    assert (await h.http.post("/departments", json=body, headers=dept.headers)).status_code == 403
    assert (await h.http.get("/me/records", headers=dept.headers)).status_code == 403
    r = await h.http.post("/records", json={}, headers=citizen.headers)
    assert r.status_code in (403, 422)
    nobody = await h.http.get("/me/records")
    assert nobody.status_code == 401 and nobody.json()["detail"] == "missing bearer token"
    issuer_only = await h.department("jiaoyu", roles=["issuer"])
    r = await h.http.post(
        "/subjects",
        json={"kind": "citizen", "identifier": "11010519491231002X", "name": "x", "address": "0x" + "cd" * 20},
        headers=issuer_only.headers,
    )
    assert r.status_code == 403


async def test_tokens_expire_and_cannot_be_forged(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    freeze(h.app, clock.now() + 3600)
    r = await h.http.get("/me/records", headers=citizen.headers)
    assert r.status_code == 401 and r.json()["detail"] == "token expired"
    h.app.dependency_overrides.clear()
    body, mac = citizen.token.split(".")
    forged = {"Authorization": f"Bearer {body[:-2]}xx.{mac}"}
    assert (await h.http.get("/me/records", headers=forged)).status_code == 401


async def test_challenges_cannot_be_replayed_or_signed_by_others(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    challenge = (await h.http.post("/auth/challenge", json={"address": citizen.key.address})).json()["challenge"]
    signature = dept.key.sign_message(challenge)
    r = await h.http.post("/auth/token", json={"challenge": challenge, "signature": signature})
    assert r.status_code == 401 and "does not match" in r.json()["detail"]
    r = await h.http.post(
        "/auth/token", json={"challenge": challenge, "signature": citizen.key.sign_message(challenge)}
    )
    assert r.status_code == 401 and "already used" in r.json()["detail"]


async def test_bad_input_gets_a_problem_not_a_crash(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    await h.subject(dept)
    before = await count(h, Record)
    r = await h.http.post(
        "/records", content=b'{"subject": ', headers={**dept.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "Malformed JSON"
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "passport",
            "title": "x",
            "fields": {"a": 1},
            "valid_until": 1,
        },
        headers=dept.headers,
    )
    assert r.status_code == 422 and "type" in r.json()["detail"]
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "licence",
            "title": "x",
            "fields": {"a": 1},
            "valid_from": 100,
            "valid_until": 50,
        },
        headers=dept.headers,
    )
    assert r.status_code == 422 and r.json()["field"] == "valid_until"
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": "110105194912310021"},
            "type": "licence",
            "title": "x",
            "fields": {"a": 1},
            "valid_until": clock.now() + 10,
        },
        headers=dept.headers,
    )
    assert r.status_code == 422 and "check digit" in r.json()["detail"]
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": "11010519800101001X"},
            "type": "licence",
            "title": "x",
            "fields": {"a": 1},
            "valid_until": clock.now() + 10,
        },
        headers=dept.headers,
    )
    assert r.status_code in (404, 422)
    assert await count(h, Record) == before
    r = await h.http.post("/verify", json={"credential_hash": "0x1234"})
    assert r.status_code == 422
    # A document is judged, not refused: one lacking its keys is an invalid verdict.
    r = await h.http.post("/verify", json={"document": {"hello": "world"}})
    assert r.status_code == 200 and failed_checks(r.json()) == {"format"}
    assert "document lacks" in r.json()["checks"][0]["reason"]
    r = await h.http.post(
        "/subjects",
        json={"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": "0x" + "ef" * 20},
        headers=dept.headers,
    )
    assert r.status_code == 409


async def test_tampered_ciphertext_fails_to_decrypt(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    async with h.vault.ctx.sessions.begin() as s:
        row = await s.get(Record, (record["id"], 1))
        assert row is not None
        body = bytearray(row.body)
        body[-5] ^= 0x01
        await s.execute(update(Record).where(Record.id == record["id"]).values(body=bytes(body)))
    r = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
    assert r.status_code == 500
    assert r.json()["title"] == "Record unreadable" and "张三" not in r.text


async def test_subjects_see_only_their_own_records(harness: Harness) -> None:
    h = harness
    dept = await h.department("shichang")
    citizen = await h.subject(dept)
    firm = await h.subject(dept, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    record = await h.issue(dept)
    licence = await h.issue(dept, subject={"kind": "enterprise", "identifier": ENTERPRISE_ID}, title="营业执照")
    assert (await h.http.get(f"/me/records/{record['id']}", headers=firm.headers)).status_code == 404
    firms = (await h.http.get("/me/records", headers=firm.headers)).json()["records"]
    assert [r["id"] for r in firms] == [licence["id"]]
    mine = (await h.http.get("/me/records", headers=citizen.headers)).json()["records"]
    assert [r["id"] for r in mine] == [record["id"]]
    me = (await h.http.get("/me", headers=firm.headers)).json()
    assert me["kind"] == "enterprise" and me["name"] == "闽江数据科技有限公司"
    assert ENTERPRISE_ID not in str(me)


async def test_key_rotation_rewraps_without_touching_bodies(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    issued = [await h.issue(dept, title=f"证 {i}") for i in range(3)]
    async with h.vault.ctx.sessions() as s:
        bodies = {r.id: (r.body, r.wrapped_key) for r in await s.scalars(select(Record))}
    r = await h.http.post("/me/keys/rotate", headers=citizen.headers)
    assert r.status_code == 200 and r.json()["key_version"] == 2
    r = await h.http.post(f"/subjects/{r.json()['subject_id']}/keys/rotate", headers=h.admin.headers)
    assert r.json()["key_version"] == 3
    async with h.vault.ctx.sessions() as s:
        for row in await s.scalars(select(Record)):
            assert row.body == bodies[row.id][0] and row.wrapped_key != bodies[row.id][1]
    mine = (await h.http.get("/me/records", headers=citizen.headers)).json()["records"]
    assert sorted(m["document"]["title"] for m in mine) == sorted(i["document"]["title"] for i in issued)
    assert (await h.http.get("/me", headers=citizen.headers)).json()["name"] == "张三"


async def test_outbox_settles_every_entry(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    await h.subject(dept)
    await h.issue(dept)
    await h.settle()
    async with h.vault.ctx.sessions() as s:
        statuses = set(await s.scalars(select(OutboxEntry.status)))
    assert statuses == {"done"}
