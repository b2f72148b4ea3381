"""Erasure by crypto-shredding, the conformance suite run on every chain engine and database
backend: what the subject, its registrar and the retention job erase is gone for good — no
key left to open it and, on the embedded SQLite file, no byte of it left in the database, its
WAL, the keystore or the chain's state — while everything else the subject holds still opens,
verifiers are told "erased", issuers are told, and the access log still verifies.

Run by tests/unit/api/test_erasure_inprocess.py (in-process chain, SQLite) and
tests/integration/vault/test_erasure_backends.py (anvil; SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from keys import DecryptionError, KeyNotFoundError, Sealed, open_sealed
from tests.audit_api_conformance import register_auditor
from tests.grant_conformance import LICENCE_FIELDS, granted, read, setup
from tests.support.harness import CITIZEN_ID, Actor, Harness, freeze
from tests.vault_conformance import failed_checks, verify
from vault import clock, keyring
from vault.db.erasure import ErasureNotice
from vault.db.models import Record, Subject, SubjectKey
from vault.erasure import retention, schedule, storage
from vault.interop import jose_keys, sd_jwt_holder
from vault.presentations import status_snapshot

MARKER = "抹除标记-ERASE-ME-7f3c9a"
YEAR = 365 * 24 * 3600


async def _me(h: Harness, citizen: Actor) -> str:
    return str((await h.http.get("/me", headers=citizen.headers)).json()["id"])


async def _sealed(h: Harness, record_id: str) -> tuple[list[bytes], list[bytes]]:
    """(every wrapped data key and body of the record, every wrapped KEK of its subject)."""
    async with h.vault.ctx.sessions() as s:
        rows = (await s.scalars(select(Record).where(Record.id == record_id))).all()
        keks = (await s.scalars(select(SubjectKey.wrapped).where(SubjectKey.subject_id == rows[0].subject_id))).all()
        return [bytes(b) for r in rows for b in (r.wrapped_key, r.body)], [bytes(k) for k in keks]


async def _status_index(h: Harness, record_id: str) -> int:
    async with h.vault.ctx.sessions() as s:
        index = await s.scalar(select(Record.status_index).where(Record.id == record_id))
        assert index is not None
        return int(index)


def _files(h: Harness) -> dict[Path, bytes]:
    """Every file of the data directory: the database, its WAL, the keystore, the master key."""
    return {p: p.read_bytes() for p in h.datadir.rglob("*") if p.is_file()}


def _found(files: dict[Path, bytes], needles: list[bytes]) -> list[str]:
    return [f"{p.name} holds {n[:12].hex()}..." for p, data in files.items() for n in needles if n and n in data]


async def _log_verifies_after_erasure(h: Harness, marker: str) -> None:
    """A signed head over the log that now holds the erasure: an auditor proves it complete and
    untampered, and its export names no one and nothing erased."""
    auditor = await register_auditor(h)
    await h.settle()
    assert await h.vault.sequencer.sign_head(clock.now()) is not None
    await h.settle()
    r = await h.http.post("/audit/verify", headers=auditor.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"] and report["findings"] == [], report
    export = await h.http.get("/audit/export", headers=auditor.headers)
    assert export.status_code == 200 and "erased" in export.text and marker not in export.text


async def _revoke(h: Harness, citizen: Actor, grant_id: str) -> None:
    typed = (await h.http.post(f"/me/grants/{grant_id}/revoke/prepare", headers=citizen.headers)).json()["typed_data"]
    r = await h.http.post(
        f"/me/grants/{grant_id}/revoke", json={"signature": citizen.key.sign_typed_data(typed)}, headers=citizen.headers
    )
    assert r.status_code == 200, r.text


async def test_one_erased_record_is_gone_for_good_and_the_rest_still_opens(harness: Harness) -> None:
    h = harness
    issuer, reader, citizen, licence = await setup(h)
    secret = await h.issue(issuer, title="病历摘要", type="data", fields={"诊断": MARKER, "姓名": "张三"})
    await h.settle()
    grant = await granted(h, citizen)  # over licences: stays in force over the licence
    correction = await h.http.post(
        f"/me/records/{secret['id']}/corrections",
        json={"reason": f"诊断有误 {MARKER}", "fields": {"诊断": f"{MARKER}-更正"}},
        headers=citizen.headers,
    )
    assert correction.status_code == 201, correction.text
    bodies, old_keks = await _sealed(h, secret["id"])
    on_disk = not h.database_url  # the database's files are in the data directory
    assert _found(_files(h), [MARKER.encode()]) == [], "sealed from the start: the plaintext was never written"
    if on_disk:
        assert len(_found(_files(h), bodies + old_keks)) >= len(bodies + old_keks), "the scan sees what is there"

    r = await h.http.post("/me/erasures", json={"scope": "record", "record_id": secret["id"]}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    erasure = r.json()
    assert erasure["record_ids"] == [secret["id"]] and erasure["basis"] == "subject-request"
    assert erasure["revoked_grants"] == [] and MARKER not in r.text

    # The subject: the record is gone (410), the rest still opens under the rotated key.
    gone = await h.http.get(f"/me/records/{secret['id']}", headers=citizen.headers)
    assert gone.status_code == 410 and "erased" in gone.json()["detail"]
    listed = (await h.http.get("/me/records", headers=citizen.headers)).json()["records"]
    assert secret["id"] not in {item["id"] for item in listed} and licence["id"] in {item["id"] for item in listed}
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).json()["document"]
    assert (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()["purpose"] == "核验驾驶资格"
    assert (await h.http.get("/me", headers=citizen.headers)).json()["name"] == "张三"
    # Nothing exports it any more: not as a W3C VC, an SD-JWT VC or a presentation.
    assert (await h.http.get(f"/me/records/{secret['id']}/vc", headers=citizen.headers)).status_code == 410
    holder = {"holder_jwk": jose_keys.public_jwk(citizen.key.account)}
    sd_jwt = await h.http.post(f"/me/records/{secret['id']}/sd-jwt", json=holder, headers=citizen.headers)
    assert sd_jwt.status_code == 410, sd_jwt.text
    shown = await h.http.post("/me/presentations", json={"record_id": secret["id"]}, headers=citizen.headers)
    assert shown.status_code == 410, shown.text
    # The grant over licences reads the licence as before.
    assert (await read(h, reader, grant["id"])).status_code == 200

    # No key left opens the erased record, and none of its bytes are left anywhere on disk.
    async with h.vault.ctx.sessions() as s:
        sid = await _me(h, citizen)
        versions = (await s.scalars(select(SubjectKey.version).where(SubjectKey.subject_id == sid))).all()
        assert versions == [2], "rotated, and the version that wrapped the erased record destroyed"
        lookup = await keyring.lookup_for(s, h.vault.ctx.master, sid)
    for wrapped, body in zip(bodies[::2], bodies[1::2], strict=True):
        aad = keyring.record_aad(sid, secret["id"], 1)
        try:
            open_sealed(Sealed(wrapped, body), aad, lookup)
            raise AssertionError("an erased record opened")
        except (KeyNotFoundError, DecryptionError):
            pass
    assert await storage.after_erasure(h.vault.ctx) is on_disk
    files = _files(h)
    assert _found(files, bodies + old_keks + [MARKER.encode()]) == []

    # Verifiers are told "erased"; offline status snapshots count it as revoked.
    doc = secret
    verdict = await verify(h, {"document": doc["document"], "proof": (doc["anchor"] or {}).get("proof")})
    assert failed_checks(verdict) == {"not_erased"}
    snapshot = status_snapshot.decode((await h.http.get("/status/snapshot")).text)
    assert snapshot.revoked(await _status_index(h, secret["id"])) is True
    assert snapshot.revoked(await _status_index(h, licence["id"])) is False

    # The issuer is told, by ids only.
    notices = (await h.http.get("/departments/me/erasure-notices", headers=issuer.headers)).json()
    assert [(n["record_id"], n["basis"]) for n in notices] == [(secret["id"], "subject-request")]
    marked = await h.http.post(
        "/departments/me/erasure-notices/read", json={"ids": [notices[0]["id"]]}, headers=issuer.headers
    )
    assert marked.json()[0]["read_at"] is not None
    assert (await h.http.get("/departments/me/erasure-notices", headers=reader.headers)).json() == []

    # The access log records the erasure (the export's "erased"), names no one and nothing
    # erased in clear, and still verifies.
    assert MARKER not in (await h.http.get("/me/access-log", headers=citizen.headers)).text
    await _log_verifies_after_erasure(h, MARKER)
    again = await h.http.post(
        "/me/erasures", json={"scope": "record", "record_id": secret["id"]}, headers=citizen.headers
    )
    assert again.status_code == 409


async def test_a_whole_file_needs_its_grants_revoked_first_then_nothing_of_it_is_left(harness: Harness) -> None:
    h = harness
    issuer, reader, citizen, licence = await setup(h)
    grant = await granted(h, citizen, purpose=f"贷款审批 {MARKER}")
    sid = await _me(h, citizen)
    bodies, keks = await _sealed(h, licence["id"])

    r = await h.http.post("/me/erasures", json={"scope": "file"}, headers=citizen.headers)
    assert r.status_code == 409 and r.json()["grants"] == [grant["id"]], r.text
    await _revoke(h, citizen, grant["id"])
    r = await h.http.post("/me/erasures", json={"scope": "file"}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    assert licence["id"] in r.json()["record_ids"]
    await h.settle()

    assert (await h.http.get("/me/records", headers=citizen.headers)).json()["records"] == []
    # What is left of the file still answers, without what was erased.
    me = await h.http.get("/me", headers=citizen.headers)
    assert me.status_code == 200 and me.json()["name"] is None and me.json()["erased_at"], me.text
    grants = await h.http.get("/me/grants", headers=citizen.headers)
    assert grants.status_code == 200, grants.text
    assert [(g["id"], g["status"], g["purpose"]) for g in grants.json()["grants"]] == [(grant["id"], "revoked", None)]
    receipt = await h.http.get(f"/me/grants/{grant['id']}/receipt", headers=citizen.headers)
    assert receipt.status_code == 410, receipt.text
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 410
    h.http.cookies.set("dv_session", citizen.token)
    try:
        for page in ("/my", "/my/grants", "/my/agents", "/my/erasures", "/my/access"):
            shown = await h.http.get(page)
            assert shown.status_code == 200 and MARKER not in shown.text, (page, shown.status_code)
    finally:
        h.http.cookies.clear()
    async with h.vault.ctx.sessions() as s:
        assert (await s.scalars(select(SubjectKey).where(SubjectKey.subject_id == sid))).all() == []
        subject = await s.get(Subject, sid)
        assert subject is not None and subject.erased_at is not None and subject.profile == b""
        rows = (await s.scalars(select(Record).where(Record.subject_id == sid))).all()
        assert rows and all(row.body == b"" and row.wrapped_key == b"" and row.erased_at for row in rows)
    assert await storage.after_erasure(h.vault.ctx) is (not h.database_url)
    assert _found(_files(h), bodies + keks + [MARKER.encode()]) == []
    # Nothing more goes into an erased file; a second erasure is a conflict, not a crash.
    r = await h.http.post(
        "/records",
        json={
            "subject": {"kind": "citizen", "identifier": "110101199003074477"},
            "type": "licence",
            "title": "证",
            "fields": LICENCE_FIELDS,
            "valid_until": clock.now() + YEAR,
        },
        headers=issuer.headers,
    )
    assert r.status_code in (404, 409), r.text
    assert (await h.http.post("/me/erasures", json={"scope": "file"}, headers=citizen.headers)).status_code == 409
    assert (await read(h, reader, grant["id"])).status_code == 403
    await _log_verifies_after_erasure(h, MARKER)


async def test_a_registrar_erases_on_a_legal_basis_and_live_grants_stop_at_once(harness: Harness) -> None:
    h = harness
    issuer, reader, citizen, _licence = await setup(h)
    grant = await granted(h, citizen)
    sid = await _me(h, citizen)
    other = await h.department("minzheng", roles=["registrar"])
    body: dict[str, Any] = {"scope": "file", "basis": "court-order"}
    assert (await h.http.post(f"/subjects/{sid}/erasures", json=body, headers=other.headers)).status_code == 403
    bad = await h.http.post(f"/subjects/{sid}/erasures", json={**body, "basis": "i-said-so"}, headers=issuer.headers)
    assert bad.status_code == 422
    r = await h.http.post(f"/subjects/{sid}/erasures", json=body, headers=issuer.headers)
    assert r.status_code == 201, r.text
    assert r.json()["revoked_grants"] == [grant["id"]] and r.json()["requested_by_role"] == "registrar"
    refused = await read(h, reader, grant["id"])
    assert refused.status_code == 403
    mine = (await h.http.get("/me/erasures", headers=citizen.headers)).json()
    assert [e["basis"] for e in mine] == ["court-order"]


async def test_retention_lists_what_is_due_then_shreds_only_that(harness: Harness) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    short = await h.issue(
        issuer, type="certificate", title="临时证明", fields={"事项": MARKER}, valid_until=clock.now() + 3600
    )
    await h.settle()
    r = await h.http.put("/retention-rules/certificate", json={"keep_days_after_expiry": 30}, headers=h.admin.headers)
    assert r.status_code == 200, r.text
    assert (
        await h.http.put("/retention-rules/nonsense", json={"keep_days_after_expiry": 1}, headers=h.admin.headers)
    ).status_code == 422
    assert (await h.http.get("/retention/due", headers=h.admin.headers)).json() == []

    later = clock.now() + 3600 + 31 * 24 * 3600
    freeze(h.app, later)
    await h.login(h.admin)  # a month on: sessions have expired
    await h.login(citizen)
    due = (await h.http.get("/retention/due", headers=h.admin.headers)).json()
    due_ids = {d["record_id"] for d in due}
    assert short["id"] in due_ids and licence["id"] not in due_ids
    run = (await h.http.post("/retention/run", headers=h.admin.headers)).json()
    assert set(run["erased"]) == due_ids
    assert (await h.http.get("/retention/due", headers=h.admin.headers)).json() == []
    async with h.vault.ctx.sessions() as s:
        notices = (await s.scalars(select(ErasureNotice.basis))).all()
    assert set(notices) == {"retention-expired"}
    assert (await h.http.get(f"/me/records/{short['id']}", headers=citizen.headers)).status_code == 410
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 200


async def test_the_scheduled_job_shreds_what_is_due_until_stopped(harness: Harness) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    soon = clock.now() + 60
    short = await h.issue(issuer, type="certificate", title="临时证明", fields={"事项": MARKER}, valid_until=soon)
    await h.settle()
    async with h.vault.ctx.sessions.begin() as s:
        await retention.set_rule(h.vault.ctx, s, "certificate", 0, set_by="test", now=clock.now())
    stop = asyncio.Event()
    rounds: list[int] = []

    def later() -> int:
        rounds.append(1)
        if len(rounds) == 3:
            stop.set()
        return soon + 1  # the certificate has just expired; the licence has a year to go

    await asyncio.wait_for(schedule.run_forever(h.vault.ctx, 0.01, stop, later), timeout=30)
    assert len(rounds) == 3, "it ran round after round until stopped"
    async with h.vault.ctx.sessions() as s:
        erased = {r.id for r in (await s.scalars(select(Record).where(Record.erased_at.is_not(None)))).all()}
    assert erased == {short["id"]} and licence["id"] not in erased
    assert (await h.http.get(f"/me/records/{short['id']}", headers=citizen.headers)).status_code == 410


async def test_records_issued_while_others_are_erased_all_still_open(harness: Harness) -> None:
    """Issuing seals under the subject's active key while an erasure rotates it and destroys the
    old version: both take the subject's lock, so nothing is sealed under a destroyed version."""
    h = harness
    issuer, _reader, citizen, _licence = await setup(h)
    doomed = [await h.issue(issuer, type="data", title=f"待删{i}", fields={"诊断": MARKER}) for i in range(8)]
    await h.settle()

    async def erase(record_id: str) -> int:
        body = {"scope": "record", "record_id": record_id}
        return (await h.http.post("/me/erasures", json=body, headers=citizen.headers)).status_code

    async def issue(i: int) -> int:
        body = {
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "data",
            "title": f"同时签发{i}",
            "fields": {"姓名": "张三"},
            "valid_until": clock.now() + YEAR,
        }
        return (await h.http.post("/records", json=body, headers=issuer.headers)).status_code

    codes = await asyncio.gather(*[job for i, r in enumerate(doomed) for job in (erase(r["id"]), issue(i))])
    assert sorted(set(codes)) == [201], codes
    listed = await h.http.get("/me/records", params={"limit": 500}, headers=citizen.headers)
    assert listed.status_code == 200, listed.text
    titles = {r["document"]["title"] for r in listed.json()["records"]}
    assert {f"同时签发{i}" for i in range(8)} <= titles and not any(t.startswith("待删") for t in titles)


async def test_an_open_correction_of_an_erased_record_is_closed_and_lists_still_answer(harness: Harness) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    asked = await h.http.post(
        f"/me/records/{licence['id']}/corrections",
        json={"reason": f"姓名错误 {MARKER}", "fields": {"姓名": "张珊"}},
        headers=citizen.headers,
    )
    assert asked.status_code == 201, asked.text
    erased = await h.http.post(
        "/me/erasures", json={"scope": "record", "record_id": licence["id"]}, headers=citizen.headers
    )
    assert erased.status_code == 201, erased.text
    for who, path in (
        (issuer, "/corrections"),
        (issuer, "/corrections?status=requested"),
        (citizen, "/me/corrections"),
    ):
        r = await h.http.get(path, headers=who.headers)
        assert r.status_code == 200 and MARKER not in r.text, (path, r.text)
    decided = await h.http.post(
        f"/corrections/{asked.json()['id']}/accept", json={"note": "已核实"}, headers=issuer.headers
    )
    assert decided.status_code in (409, 410), decided.text


async def test_an_erased_file_gets_no_new_key_grant_or_delegation(harness: Harness) -> None:
    h = harness
    _issuer, _reader, citizen, _licence = await setup(h)
    assert (await h.http.post("/me/erasures", json={"scope": "file"}, headers=citizen.headers)).status_code == 201
    assert (await h.http.post("/me/keys/rotate", headers=citizen.headers)).status_code == 409
    prepared = await h.http.post(
        "/me/grants/prepare",
        json={
            "grantee": "renshe",
            "record_types": ["licence"],
            "fields": ["姓名"],
            "purpose_code": 101,
            "purpose": "核验",
            "expires_at": clock.now() + YEAR,
            "allow_unissued_fields": True,
        },
        headers=citizen.headers,
    )
    assert prepared.status_code == 409, prepared.text


async def test_an_sd_jwt_presentation_of_an_erased_credential_fails_not_erased(harness: Harness) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    holder = {"holder_jwk": jose_keys.public_jwk(citizen.key.account)}
    exported = await h.http.post(f"/me/records/{licence['id']}/sd-jwt", json=holder, headers=citizen.headers)
    assert exported.status_code == 200, exported.text
    erased = await h.http.post(
        "/me/erasures", json={"scope": "record", "record_id": licence["id"]}, headers=citizen.headers
    )
    assert erased.status_code == 201, erased.text
    nonce = (await h.http.post("/presentations/challenges", headers=issuer.headers)).json()["nonce"]
    shown = sd_jwt_holder.present(
        exported.text,
        ["准驾车型"],
        holder_key=jose_keys.private_jwk(citizen.key.account),
        nonce=nonce,
        aud="gongan",
        now=clock.now(),
    )
    r = await h.http.post("/presentations/verify", json={"text": shown}, headers=issuer.headers)
    assert r.status_code == 200, r.text
    assert not r.json()["valid"] and "not_erased" in failed_checks(r.json()), r.json()
