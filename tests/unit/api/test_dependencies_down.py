"""With the chain node or the database gone, chain- and database-dependent routes answer 503
with a reason that names no internal address, ``/health`` says what is down and
``/health/ready`` fails. The node and the database are really gone (a closed loopback port),
not mocked: the vault's own clients talk to them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from web3 import Web3

from chain.engines.process import free_port
from tests.audit_api_conformance import register_auditor
from tests.support.harness import Actor, Harness, open_harness


@dataclass
class Seeded:
    h: Harness
    dept: Actor
    citizen: Actor
    auditor: Actor
    subject_id: str
    document: Any


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    h = await open_harness(tmp_path, chain="inprocess")
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    auditor = await register_auditor(h)
    subject_id = (await h.http.get("/me", headers=citizen.headers)).json()["id"]
    mine = (await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)).json()
    yield Seeded(h, dept, citizen, auditor, subject_id, mine["document"])
    await h.close()


def kill_chain(s: Seeded) -> str:
    """Points the vault's one ``Web3`` (every contract client shares it) at a closed port."""
    port = free_port()
    w3 = s.h.vault.ctx.chain.engine.w3
    w3.provider = Web3.HTTPProvider(f"http://127.0.0.1:{port}", exception_retry_configuration=None)
    return str(port)


def kill_database(s: Seeded) -> str:
    port = free_port()
    engine = create_async_engine(f"postgresql+asyncpg://vault:secret@127.0.0.1:{port}/vault")
    s.h.vault.ctx.sessions = async_sessionmaker(engine, expire_on_commit=False)
    return str(port)


def assert_unavailable(r: httpx.Response, port: str) -> None:
    assert r.status_code == 503, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert "127.0.0.1" not in r.text and port not in r.text, r.text


async def test_chain_routes_answer_503_without_the_address_when_the_node_is_gone(seeded: Seeded) -> None:
    s = seeded
    port = kill_chain(s)
    h = s.h
    answers = [
        await h.http.post("/verify", json={"document": s.document}),
        await h.http.get("/status/snapshot"),
        await h.http.get(
            "/delegations/check",
            params={"subject_id": s.subject_id, "agent": s.dept.key.address},
            headers=s.dept.headers,
        ),
        await h.http.post("/audit/verify", headers=s.auditor.headers),
        await h.http.get("/audit/heads", headers=s.auditor.headers),
    ]
    for r in answers:
        assert_unavailable(r, port)
    assert "could not be reached" in answers[0].json()["detail"]


async def test_health_reports_the_chain_down_and_readiness_fails(seeded: Seeded) -> None:
    s = seeded
    r = await s.h.http.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["chain"]["status"] == r.json()["database"]["status"] == "ok"
    assert (await s.h.http.get("/health/ready")).status_code == 200

    port = kill_chain(s)
    r = await s.h.http.get("/health")
    assert r.status_code == 200, r.text  # liveness: the process runs
    body = r.json()
    assert body["status"] == "degraded"
    assert body["chain"]["status"] == "down" and "could not be reached" in body["chain"]["reason"]
    assert body["database"] == {"status": "ok"}
    assert "127.0.0.1" not in r.text and port not in r.text
    r = await s.h.http.get("/health/ready")
    assert_unavailable(r, port)
    assert r.json()["detail"].startswith("chain down")


async def test_the_database_gone_is_503_and_reported(seeded: Seeded) -> None:
    s = seeded
    port = kill_database(s)
    r = await s.h.http.get("/health")
    assert r.status_code == 200, r.text
    assert r.json()["database"] == {"status": "down", "reason": "the database could not be reached"}
    assert r.json()["chain"]["status"] == "ok"
    assert_unavailable(await s.h.http.get("/health/ready"), port)
    assert_unavailable(await s.h.http.get("/me/records", headers=s.citizen.headers), port)
    assert_unavailable(await s.h.http.get("/departments"), port)
