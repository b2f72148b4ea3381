"""A vault opened for a test, with its API, a client and people to log in as.

The API runs in-process over ASGI (no socket), the submitter is driven by ``settle()`` so a
test decides when anchors are mined, and the chain and database are whatever the caller
chose: the in-process chain for unit tests, real nodes and PostgreSQL for integration.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api import deps
from api.app import create_app
from keys import SigningKey
from tests.support import templates
from vault import clock
from vault.accounts import admins
from vault.config import Settings
from vault.setup import OpenVault, open_vault

CITIZEN_ID = "11010519491231002X"
ENTERPRISE_ID = "91350100M000100Y43"
YEAR = 365 * 24 * 3600


@dataclass
class Actor:
    key: SigningKey
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Harness:
    vault: OpenVault
    app: FastAPI
    http: httpx.AsyncClient
    datadir: Path
    admin: Actor = field(default_factory=lambda: Actor(SigningKey.generate()))
    chain: str = "inprocess"
    database_url: str = ""
    rpc_url: str = ""  # chain "rpc": a node someone else runs (signed for by its first dev account)
    signer_key: str = field(default="", repr=False)

    async def login(self, actor: Actor) -> Actor:
        r = await self.http.post("/auth/challenge", json={"address": actor.key.address})
        assert r.status_code == 200, r.text
        challenge = r.json()["challenge"]
        r = await self.http.post(
            "/auth/token", json={"challenge": challenge, "signature": actor.key.sign_message(challenge)}
        )
        assert r.status_code == 200, r.text
        actor.token = r.json()["access_token"]
        return actor

    async def settle(self, rounds: int = 5) -> None:
        """Let the submitter batch and anchor everything queued."""
        for _ in range(rounds):
            await self.vault.submitter.run_once()

    async def department(self, code: str, roles: list[str] | None = None, name: str = "") -> Actor:
        actor = Actor(SigningKey.generate())
        body = {
            "code": code,
            "name": name or f"{code} bureau",
            "roles": roles or ["issuer", "verifier", "registrar"],
            "auth_address": actor.key.address,
        }
        r = await self.http.post("/departments", json=body, headers=self.admin.headers)
        assert r.status_code == 201, r.text
        await self.settle()
        return await self.login(actor)

    async def subject(
        self, registrar: Actor, identifier: str = CITIZEN_ID, kind: str = "citizen", name: str = "张三"
    ) -> Actor:
        actor = Actor(SigningKey.generate())
        body = {"kind": kind, "identifier": identifier, "name": name, "address": actor.key.address}
        r = await self.http.post("/subjects", json=body, headers=registrar.headers)
        assert r.status_code == 201, r.text
        await self.settle()  # the subject's key is bound on chain, as grants will need
        return await self.login(actor)

    async def issue(self, dept: Actor, identifier: str = CITIZEN_ID, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": {"kind": "citizen", "identifier": identifier},
            "type": "licence",
            "title": "机动车驾驶证",
            "fields": {"姓名": "张三", "准驾车型": "C1"},
            "valid_until": clock.now() + YEAR,
        }
        body.update(overrides)
        r = await self.http.post("/records", json=body, headers=dept.headers)
        assert r.status_code == 201, r.text
        record: dict[str, Any] = r.json()
        return record

    async def close(self) -> None:
        await self.http.aclose()
        await self.vault.close()
        if not self.vault.owns_engine:
            templates.INPROCESS.release()


async def open_harness(
    datadir: Path, *, chain: str = "inprocess", database_url: str = "", rpc_url: str = "", signer_key: str = ""
) -> Harness:
    return await _open(datadir, chain, database_url, None, rpc_url, signer_key)


async def reopen_harness(old: Harness) -> Harness:
    """The same vault opened again (same data directory, database and chain), as after a
    restart; ``old`` must be closed (or its node killed) first. The admin keeps its key. On
    the in-process chain it reopens on the chain as ``old`` left it."""
    resume = old.chain == "inprocess" and not old.vault.owns_engine
    return await _open(old.datadir, old.chain, old.database_url, old.admin, old.rpc_url, old.signer_key, resume)


# Tests decide when the access log signs a head (``h.vault.sequencer.sign_head``), so that a
# slow run never finds an anchor in the outbox that a fast one would not.
NEVER = 2**62


async def _open(
    datadir: Path,
    chain: str,
    database_url: str,
    admin: Actor | None,
    rpc_url: str = "",
    signer_key: str = "",
    resume: bool = False,
) -> Harness:
    def settings(at: Path) -> Settings:
        return Settings(
            datadir=at,
            chain=chain,
            database_url=database_url,
            rpc_url=rpc_url or None,
            signer_key=signer_key or None,
            audit_head_every=NEVER,
            audit_head_interval=NEVER,
        )

    fresh = not database_url and not (datadir / "vault.db").exists()
    shared = None
    if fresh and chain == "inprocess":
        shared = await templates.INPROCESS.checkout(datadir, settings)
    elif fresh:
        await templates.migrated_sqlite(datadir / "vault.db")
    elif resume:
        shared = templates.INPROCESS.resume()
    try:
        vault = await open_vault(settings(datadir), engine=shared)
    except BaseException:
        if shared is not None:
            templates.INPROCESS.release()
        raise
    app = create_app(vault=vault, run_submitter=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vault.test")
    harness = Harness(
        vault=vault,
        app=app,
        http=http,
        datadir=datadir,
        chain=chain,
        database_url=database_url,
        rpc_url=rpc_url,
        signer_key=signer_key,
    )
    if admin is None:
        async with vault.ctx.sessions.begin() as session:
            await admins.add(session, harness.admin.key.address, "test admin", clock.now())
    else:
        harness.admin = admin
    await harness.login(harness.admin)
    return harness


async def kill_node(h: Harness) -> None:
    """``kill -9`` of the chain node (no chance to save its state), then close the rest."""
    pid = getattr(h.vault.ctx.chain.engine, "pid", None)
    assert pid is not None, f"the {h.chain} chain has no node process to kill"
    os.kill(pid, signal.SIGKILL)
    await h.close()  # stopping the engine reaps the killed process


def issuances(h: Harness) -> Counter[str]:
    """How many times each root was anchored on chain (CredentialIssued events)."""
    client = h.vault.ctx.chain.client
    logs = client.contract.events.CredentialIssued().get_logs(from_block=0)
    return Counter("0x" + bytes(log["args"]["root"]).hex() for log in logs)


def freeze(app: FastAPI, at: int) -> None:
    """Make the API believe it is ``at`` (Unix seconds)."""
    app.dependency_overrides[deps.get_now] = lambda: at


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture(name="harness")
async def inprocess_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """``harness``: a vault on the in-process chain, with SQLite in ``tmp_path``."""
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


__all__ = [
    "Actor",
    "Harness",
    "asyncio",
    "freeze",
    "inprocess_harness",
    "issuances",
    "kill_node",
    "open_harness",
    "reopen_harness",
    "wait_until",
]
