"""Fail closed: an access whose entry cannot be written to the access log does not happen.

The log's storage is made unwritable for real, by the database itself: a trigger that raises
on every insert into ``audit_queue`` (SQLite ``RAISE(ABORT)``; on PostgreSQL a PL/pgSQL
function that raises, as a superuser cannot revoke its own INSERT). Then a grant read, a
subject reading their records and a record issue are each refused with 503 "Access log
unavailable", disclose nothing (a canary field value never appears in the response), write
nothing (no use counted, no record stored, no log row), and succeed once the storage is
writable again.

These tests run here on SQLite and in tests/integration/vault/test_audit_backends.py on
PostgreSQL, through whatever ``harness`` fixture the module provides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.grant_conformance import granted, read, uses
from tests.support.harness import CITIZEN_ID, YEAR, Actor, Harness, open_harness
from vault import clock
from vault.db.audit import AuditEntry, AuditQueued
from vault.db.models import Record

CANARY = "金丝雀-fail-closed-4c1d"  # a field value that must never leave a refused request
NEW_CANARY = "金丝雀-not-issued-9b2e"

SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_queue "
    "BEGIN SELECT RAISE(ABORT, 'the access log is read-only'); END"
)
PG_FUNCTION = (
    "CREATE FUNCTION audit_unwritable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the access log is read-only'; END $$"
)
PG_TRIGGER = (
    "CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_queue FOR EACH ROW EXECUTE FUNCTION audit_unwritable()"
)
LOCK = {"sqlite": [SQLITE_TRIGGER], "postgresql": [PG_FUNCTION, PG_TRIGGER]}
UNLOCK = {
    "sqlite": ["DROP TRIGGER audit_unwritable"],
    "postgresql": ["DROP TRIGGER audit_unwritable ON audit_queue", "DROP FUNCTION audit_unwritable()"],
}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def _run(h: Harness, statements: dict[str, list[str]]) -> None:
    async with h.vault.db.begin() as conn:
        for statement in statements[h.vault.db.dialect.name]:
            await conn.execute(text(statement))


async def make_log_unwritable(h: Harness) -> None:
    await _run(h, LOCK)


async def make_log_writable(h: Harness) -> None:
    await _run(h, UNLOCK)


@dataclass
class Scene:
    issuer: Actor
    reader: Actor
    citizen: Actor
    grant_id: str


async def scene(h: Harness) -> Scene:
    issuer = await h.department("gongan")
    reader = await h.department("renshe", roles=["data_user"])
    citizen = await h.subject(issuer)
    await h.issue(issuer, fields={"姓名": "张三", "准驾车型": CANARY})
    await h.settle()
    grant = await granted(h, citizen, fields=["姓名", "准驾车型"])
    return Scene(issuer, reader, citizen, grant["id"])


async def log_rows(h: Harness) -> int:
    async with h.vault.ctx.sessions() as s:
        queued = await s.scalar(select(func.count()).select_from(AuditQueued))
        entries = await s.scalar(select(func.count()).select_from(AuditEntry))
        return int(queued or 0) + int(entries or 0)


async def records(h: Harness) -> list[str]:
    async with h.vault.ctx.sessions() as s:
        return [str(r) for r in await s.scalars(select(Record.id).order_by(Record.id))]


def refused(response: Any, *canaries: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["title"] == "Access log unavailable"
    assert "nothing was disclosed" in response.json()["detail"]
    for canary in canaries:
        assert canary not in response.text


async def test_a_grant_read_is_refused_and_counts_no_use(harness: Harness) -> None:
    h = harness
    s = await scene(h)
    before = await log_rows(h)
    await make_log_unwritable(h)
    refused(await read(h, s.reader, s.grant_id), CANARY, "张三")
    assert await uses(h, s.grant_id) == 0 and await log_rows(h) == before
    await make_log_writable(h)
    r = await read(h, s.reader, s.grant_id)
    assert r.status_code == 200 and r.json()["records"][0]["fields"]["准驾车型"] == CANARY
    assert await uses(h, s.grant_id) == 1 and await log_rows(h) == before + 1


async def test_a_subject_reading_their_records_is_refused(harness: Harness) -> None:
    h = harness
    s = await scene(h)
    before = await log_rows(h)
    await make_log_unwritable(h)
    refused(await h.http.get("/me/records", headers=s.citizen.headers), CANARY, "张三")
    assert await log_rows(h) == before
    await make_log_writable(h)
    r = await h.http.get("/me/records", headers=s.citizen.headers)
    assert r.status_code == 200 and CANARY in r.text
    assert await log_rows(h) == before + 1


async def test_a_record_issue_is_refused_and_stores_nothing(harness: Harness) -> None:
    h = harness
    s = await scene(h)
    stored, before = await records(h), await log_rows(h)
    body = {
        "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
        "type": "certificate",
        "title": "无犯罪记录证明",
        "fields": {"结论": NEW_CANARY},
        "valid_until": clock.now() + YEAR,
    }
    await make_log_unwritable(h)
    refused(await h.http.post("/records", json=body, headers=s.issuer.headers), NEW_CANARY)
    assert await records(h) == stored and await log_rows(h) == before
    await h.settle()  # nothing was queued for the chain either: the submitter finds no record
    assert await records(h) == stored
    await make_log_writable(h)
    r = await h.http.post("/records", json=body, headers=s.issuer.headers)
    assert r.status_code == 201, r.text
    assert await records(h) == sorted([*stored, r.json()["id"]]) and await log_rows(h) == before + 1
