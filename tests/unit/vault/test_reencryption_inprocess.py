"""Re-encryption of a running vault (#14): an intl vault with subjects, records, a correction,
a grant and an erased record moved to sm while it serves, killed mid-way and resumed after a
restart, then moved back to intl; every sealed header checked, every read the same."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.routes.crypto import job_of
from keys import MasterKey, Sealed, Suite, sealed_suites
from tests.bulk_conformance import bulk, citizen_id, item
from tests.correction_conformance import asked, decide
from tests.grant_conformance import granted
from tests.support.harness import Actor, Harness, open_harness, reopen_harness
from vault import clock, keyring
from vault.audit import verify as audit_verify
from vault.context import AUDIT_LOG_KEY
from vault.crypto_suite import CryptoSuiteMismatch
from vault.db.audit import AuditEntry
from vault.db.models import Record, SubjectKey

DAY = 86_400
GRACE = 60  # the job's default wait before the sweep


async def world(h: Harness) -> dict[str, Any]:
    gongan = await h.department("gongan")
    renshe = await h.department("renshe", ["verifier", "data_user"])
    citizens: list[tuple[str, Actor]] = []
    records: list[str] = []
    for n in range(1, 5):
        ident = citizen_id(n)
        citizen = await h.subject(gongan, identifier=ident, name=f"公民{n}")
        citizens.append((ident, citizen))
        for title in ("机动车驾驶证", "第二份"):
            records.append((await h.issue(gongan, identifier=ident, title=title))["id"])
    await h.settle()
    first = citizens[0][1]
    correction = await asked(h, first, records[0], reason="姓名写错", fields={"姓名": "张三丰"})
    assert (await decide(h, gongan, correction["id"], "accept", note="已核实")).status_code == 200
    grant = await granted(h, first, fields=["姓名", "准驾车型"], max_uses=50)
    # An erased record: its columns are empty and must be skipped.
    second = citizens[1][1]
    r = await h.http.post("/me/erasures", json={"scope": "record", "record_id": records[3]}, headers=second.headers)
    assert r.status_code == 201, r.text
    await h.settle()
    return {"gongan": gongan, "renshe": renshe, "citizens": citizens, "grant": grant["id"]}


async def reads(h: Harness, w: dict[str, Any]) -> dict[str, Any]:
    """What the citizens and the grantee read: every record, profile, correction and grant."""
    seen: dict[str, Any] = {}
    for ident, citizen in w["citizens"]:
        await h.login(citizen)
        r = await h.http.get("/me/records", headers=citizen.headers)
        assert r.status_code == 200, r.text
        docs = []
        for listed in r.json()["records"]:
            one = await h.http.get(f"/me/records/{listed['id']}", headers=citizen.headers)
            assert one.status_code == 200, one.text
            docs.append((listed["id"], listed["version"], one.json()["document"]["fields"]))
        seen[ident] = sorted(docs, key=repr)
        r = await h.http.get("/me", headers=citizen.headers)
        assert r.status_code == 200, r.text
        seen[ident + "/me"] = r.json()
        r = await h.http.get("/me/corrections", headers=citizen.headers)
        seen[ident + "/corrections"] = [(c["reason"], c.get("note")) for c in r.json()["corrections"]]
        r = await h.http.get("/me/grants", headers=citizen.headers)
        seen[ident + "/grants"] = [g.get("purpose") for g in r.json()["grants"]]
    await h.login(w["renshe"])
    r = await h.http.post(f"/grants/{w['grant']}/read", json={}, headers=w["renshe"].headers)
    assert r.status_code == 200, r.text
    seen["grant"] = [rec["fields"] for rec in r.json()["records"]]
    return seen


async def headers(h: Harness) -> set[tuple[Suite, Suite]]:
    """(KEK suite, body suite) of every sealed value the vault holds, from headers only."""
    found: set[tuple[Suite, Suite]] = set()
    async with h.vault.ctx.sessions() as session:
        for part in keyring.sealed_parts():
            for row in (await session.scalars(select(part.model))).all():
                wrapped, body = getattr(row, part.key_column), getattr(row, part.body_column)
                if wrapped and body:
                    found.add(sealed_suites(Sealed(bytes(wrapped), bytes(body))))
    return found


async def kek_wraps(h: Harness) -> list[tuple[str, int]]:
    async with h.vault.ctx.sessions() as session:
        rows = (await session.scalars(select(SubjectKey))).all()
        return sorted((r.subject_id, MasterKey.wrap_suite(bytes(r.wrapped)) is Suite.SM) for r in rows)


def keystore_suites(h: Harness) -> set[Suite | None]:
    out = set()
    for name in h.vault.ctx.keystore.names():
        entry = json.loads((h.vault.ctx.keystore.directory / f"{name}.json").read_text())
        out.add(MasterKey.wrap_suite(base64.b64decode(entry["ciphertext"])))
    return out


async def crypto(h: Harness) -> dict[str, Any]:
    r = await h.http.get("/system/crypto", headers=h.admin.headers)
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


async def audit_ok(h: Harness) -> None:
    await h.vault.sequencer.sign_head(clock.now())
    await h.settle()
    log_key = h.vault.ctx.keystore.address_of(AUDIT_LOG_KEY)
    report = await audit_verify.verify_log(h.vault.ctx, log_key_address=log_key, anchor=h.vault.ctx.chain.audit)
    assert report.ok, report.findings


async def finish(h: Harness) -> None:
    job = job_of(h.app)
    now = clock.now()
    await job.run_once(now)
    assert (await crypto(h))["migration"]["phase"] == "sweeping"
    assert await job.run_once(now) == 0  # the sweep waits for writes begun before a subject moved
    await job.run_once(now + GRACE + 1)
    assert (await crypto(h))["migration"]["phase"] == "done"


async def test_an_intl_vault_moves_to_sm_resumes_after_a_kill_and_moves_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATAVAULT_CRYPTO", raising=False)
    h = await open_harness(tmp_path, chain="inprocess")
    try:
        w = await world(h)
        before = await reads(h, w)
        first = citizen_id(1)
        assert "公民1" in json.dumps(before[first + "/me"], ensure_ascii=False)
        assert before[first + "/corrections"] == [("姓名写错", "已核实")]
        assert before[first + "/grants"] == ["核验驾驶资格"] and "张三丰" in json.dumps(
            before["grant"], ensure_ascii=False
        )
        assert len(before[citizen_id(2)]) == 1  # its other record was erased
        assert await headers(h) == {(Suite.INTL, Suite.INTL)}
        async with h.vault.ctx.sessions() as session:
            intl_records = len((await session.scalars(select(Record).where(Record.body != b""))).all())

        r = await h.http.post("/system/crypto/migration", json={"to": "sm"}, headers=h.admin.headers)
        assert r.status_code == 202, r.text
        assert (r.json()["suite"], r.json()["writing"]) == ("intl", "sm")
        assert r.json()["migration"]["phase"] == "moving" and r.json()["migration"]["subjects_total"] == 4
        again = await h.http.post("/system/crypto/migration", json={"to": "sm"}, headers=h.admin.headers)
        assert again.status_code == 409, again.text
        bad = await h.http.post("/system/crypto/migration", json={"to": "des"}, headers=h.admin.headers)
        assert bad.status_code == 422, bad.text

        # From the start, new values are sealed in SM4 (under the subject's old KEK until it moves)
        # and new audit entries MACed with HMAC-SM3.
        assert h.vault.ctx.suite is Suite.SM
        late = await h.issue(w["gongan"], identifier=citizen_id(4), title="迁移中签发")
        await h.settle()
        async with h.vault.ctx.sessions() as session:
            row = await session.scalar(select(Record).where(Record.id == late["id"]))
            assert row is not None
            assert sealed_suites(Sealed(row.wrapped_key, row.body)) == (Suite.INTL, Suite.SM)
            newest = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
            assert newest is not None and len(newest.mac) == 33
        r = await bulk(h, w["gongan"], [item(citizen_id(3), title="批量签发")])
        assert r.status_code == 201, r.text
        async with h.vault.ctx.sessions() as session:
            row = await session.scalar(select(Record).where(Record.id == r.json()["records"][0]["id"]))
            assert row is not None and sealed_suites(Sealed(row.wrapped_key, row.body)) == (Suite.INTL, Suite.SM)
        before[citizen_id(4)] = before[citizen_id(3)] = None

        # Two subjects, then the process dies; reads in between work.
        assert await job_of(h.app).run_once(clock.now(), limit=2) == 2
        mid = await crypto(h)
        assert mid["migration"]["subjects_done"] == 2 and mid["migration"]["subjects_moved"] == 2
        during = await reads(h, w)
        assert {k: v for k, v in during.items() if before.get(k) is not None} == {
            k: v for k, v in before.items() if v is not None
        }
        assert {(Suite.SM, Suite.SM), (Suite.INTL, Suite.INTL)} <= await headers(h)
        await h.close()

        # Restarted with the old setting (accepted mid-way): it resumes after the cursor.
        h = await reopen_harness(h)
        assert h.vault.ctx.suite is Suite.SM
        assert (await crypto(h))["migration"]["subjects_done"] == 2
        await finish(h)
        report = (await crypto(h))["migration"]
        assert (await crypto(h))["suite"] == "sm"
        assert report["subjects_done"] == report["subjects_total"] == 4
        assert report["subjects_moved"] == 4 and report["keys_destroyed"] == 4
        assert report["records_moved"] == intl_records and report["last_error"] is None
        # records + 4 profiles + the correction's request and note + the grant's purpose
        assert report["sealed_moved"] == intl_records + 4 + 2 + 1
        assert await headers(h) == {(Suite.SM, Suite.SM)}
        assert all(sm for _, sm in await kek_wraps(h)) and len(await kek_wraps(h)) == 4
        assert keystore_suites(h) == {Suite.SM}
        after = await reads(h, w)
        assert {k: v for k, v in after.items() if before.get(k) is not None} == {
            k: v for k, v in before.items() if v is not None
        }
        assert len(after[citizen_id(4)]) == 3 and len(after[citizen_id(3)]) == 3
        await audit_ok(h)
        await h.close()

        # Finished: the source suite no longer starts it, and the message says why; unset, the
        # vault starts in the suite it recorded (the same command as before works).
        monkeypatch.setenv("DATAVAULT_CRYPTO", "intl")
        with pytest.raises(CryptoSuiteMismatch, match="re-encrypted from intl to sm"):
            await reopen_harness(h)
        monkeypatch.delenv("DATAVAULT_CRYPTO")
        h = await reopen_harness(h)
        assert h.vault.ctx.suite is Suite.SM

        # And back to intl.
        r = await h.http.post("/system/crypto/migration", json={"to": "intl"}, headers=h.admin.headers)
        assert r.status_code == 202, r.text
        await finish(h)
        assert (await crypto(h))["suite"] == "intl"
        assert await headers(h) == {(Suite.INTL, Suite.INTL)}
        assert not any(sm for _, sm in await kek_wraps(h))
        assert keystore_suites(h) == {Suite.INTL}
        assert await reads(h, w) == after
        await audit_ok(h)
        nothing = await h.http.post("/system/crypto/migration", json={"to": "intl"}, headers=h.admin.headers)
        assert nothing.status_code == 409, nothing.text
    finally:
        await h.close()
