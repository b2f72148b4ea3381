"""The re-encryption job as it runs in the app: in the background while citizens read and a
department issues, and a subject that cannot be moved reported on the run, not skipped."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from api.routes.crypto import job_of
from keys import Sealed, Suite, sealed_suites
from tests.bulk_conformance import citizen_id
from tests.support.harness import Harness, inprocess_harness  # noqa: F401 - the ``harness`` fixture
from vault import clock
from vault.db.models import Record, Subject, SubjectKey

SUBJECTS = 5


async def test_the_job_runs_in_the_background_while_the_vault_serves(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizens = [await h.subject(dept, identifier=citizen_id(n)) for n in range(SUBJECTS)]
    for n in range(SUBJECTS):
        await h.issue(dept, identifier=citizen_id(n))
    await h.settle()
    r = await h.http.post("/system/crypto/migration", json={"to": "sm"}, headers=h.admin.headers)
    assert r.status_code == 202, r.text

    job = job_of(h.app)
    job.grace, job.interval = 0, 0.01
    stop = asyncio.Event()
    task = asyncio.create_task(job.run_forever(stop))
    reads = issued = 0
    try:
        while (await job.report()).suite is not Suite.SM:
            for citizen in citizens:
                listed = await h.http.get("/me/records", headers=citizen.headers)
                assert listed.status_code == 200, listed.text
                for item in listed.json()["records"]:
                    one = await h.http.get(f"/me/records/{item['id']}", headers=citizen.headers)
                    assert one.status_code == 200, one.text
                    reads += 1
            if issued < 3:
                await h.issue(dept, identifier=citizen_id(issued))
                issued += 1
            await asyncio.sleep(0)
    finally:
        stop.set()
        await task
    assert reads > 0 and issued > 0  # read and written while the job ran
    report = await job.report()
    assert report.migration is not None and report.migration.phase == "done" and report.migration.last_error is None
    async with h.vault.ctx.sessions() as session:
        rows = (await session.scalars(select(Record))).all()
    assert len(rows) == SUBJECTS + issued
    assert {sealed_suites(Sealed(r.wrapped_key, r.body)) for r in rows} == {(Suite.SM, Suite.SM)}


async def test_a_subject_that_cannot_be_moved_stops_the_run_and_says_so(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    for n in range(3):
        await h.subject(dept, identifier=citizen_id(n))
        await h.issue(dept, identifier=citizen_id(n))
    async with h.vault.ctx.sessions.begin() as session:
        first = await session.scalar(select(Subject.id).order_by(Subject.id).limit(1))
        assert first is not None
        # Its KEK no longer opens with the master key (restored from another vault, say).
        await session.execute(
            update(SubjectKey).where(SubjectKey.subject_id == first).values(wrapped=b"\x01" + b"\0" * 60)
        )
    r = await h.http.post("/system/crypto/migration", json={"to": "sm"}, headers=h.admin.headers)
    assert r.status_code == 202, r.text
    job = job_of(h.app)
    try:
        await job.run_once(clock.now())
    except Exception as exc:
        assert "decryption failed" in str(exc)
    else:
        raise AssertionError("the run went past a subject it could not move")
    r = await h.http.get("/system/crypto", headers=h.admin.headers)
    m = r.json()["migration"]
    assert m["subjects_done"] == 0 and m["phase"] == "moving"
    assert m["last_error"] == f"subject {first}: decryption failed" and m["last_error_at"] is not None
