"""The scale curve's real data and timed operations (bench/scale_curve.py): the rows every
timed request touches are made through the API, and each operation is timed as a median."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.harness import YEAR, Actor, Harness
from vault import clock
from vault.accounts.identifiers import resident_id_check

REAL_CITIZENS = 3
REAL_RECORDS_EACH = 40

OPS = [
    ("list", "record list, first page (`GET /me/records`)"),
    ("one", "one record by id (`GET /me/records/{id}`)"),
    ("read", "department read through a grant (`POST /grants/{id}/read`)"),
    ("find", "find a subject by ID number (`POST /subjects/find`)"),
    ("log", "access log, first page (`GET /me/access-log`)"),
    ("issue", "issue one record (`POST /records`)"),
]


def citizen_id(n: int) -> str:
    first17 = f"3301021985{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336 % 1000:03d}"
    return first17 + resident_id_check(first17)


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:500])
    return r.json()


@dataclass
class World:
    gongan: Actor
    renshe: Actor
    citizens: list[Actor]
    identifiers: list[str]
    record_id: str
    grant_id: str


async def seed(h: Harness) -> World:
    gongan = await h.department("gongan", roles=["issuer", "verifier", "registrar"])
    renshe = await h.department("renshe", roles=["data_user"])
    citizens, identifiers = [], []
    until = clock.now() + YEAR
    for i in range(REAL_CITIZENS):
        identifier = citizen_id(i)
        citizens.append(await h.subject(gongan, identifier=identifier, name=f"市民{i}"))
        identifiers.append(identifier)
        items = [
            {
                "subject": {"kind": "citizen", "identifier": identifier},
                "type": "licence" if n % 4 == 0 else "certificate",
                "title": "机动车驾驶证" if n % 4 == 0 else "无犯罪记录证明",
                "fields": {"姓名": f"市民{i}", "准驾车型": "C1", "编号": f"NCR-{i}-{n:04d}", "出具单位": "市公安局"},
                "valid_until": until,
            }
            for n in range(REAL_RECORDS_EACH)
        ]
        ok(await h.http.post("/records/bulk", json={"items": items}, headers=gongan.headers, timeout=600), 201)
    await h.settle()
    me = citizens[0]
    page = ok(await h.http.get("/me/records", headers=me.headers))
    record_id = page["records"][0]["id"]
    terms = {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": ["姓名", "准驾车型"],
        "purpose_code": 101,
        "purpose": "核验驾驶资格",
        "expires_at": clock.now() + 30 * 86400,
        "max_uses": 1_000_000,
    }
    typed = ok(await h.http.post("/me/grants/prepare", json=terms, headers=me.headers))["typed_data"]
    signed = {"message": typed["message"], "signature": me.key.sign_typed_data(typed)}
    grant = ok(await h.http.post("/me/grants", json=signed, headers=me.headers), 201)
    await h.settle()
    ok(await h.http.post(f"/grants/{grant['id']}/read", json={}, headers=renshe.headers))
    await sign_head(h)
    return World(gongan, renshe, citizens, identifiers, record_id, grant["id"])


async def sign_head(h: Harness) -> None:
    """Sequence the queued access-log entries, sign a head and anchor it, so that the access
    log's entries come with proofs, as on a vault that signs heads every few minutes."""
    await h.settle()
    await h.vault.sequencer.sign_head(clock.now())
    await h.settle()


def operations(h: Harness, w: World) -> dict[str, Callable[[], Awaitable[None]]]:
    me = w.citizens[0]
    until = clock.now() + YEAR
    issued = [0]

    async def list_page() -> None:
        body = ok(await h.http.get("/me/records", headers=me.headers))
        assert body["records"], body

    async def one() -> None:
        ok(await h.http.get(f"/me/records/{w.record_id}", headers=me.headers))

    async def read() -> None:
        ok(await h.http.post(f"/grants/{w.grant_id}/read", json={}, headers=w.renshe.headers))

    async def find() -> None:
        body = {"kind": "citizen", "identifier": w.identifiers[0]}
        ok(await h.http.post("/subjects/find", json=body, headers=w.gongan.headers))

    async def log() -> None:
        body = ok(await h.http.get("/me/access-log", headers=me.headers))
        assert body["entries"], body

    async def issue() -> None:
        issued[0] += 1
        subject = w.identifiers[1 + issued[0] % (len(w.identifiers) - 1)]  # not the citizen whose list is timed
        body = {
            "subject": {"kind": "citizen", "identifier": subject},
            "type": "certificate",
            "title": "无犯罪记录证明",
            "fields": {"编号": f"SCALE-{time.time_ns()}", "结论": "无犯罪记录"},
            "valid_until": until,
        }
        ok(await h.http.post("/records", json=body, headers=w.gongan.headers), 201)

    return {"list": list_page, "one": one, "read": read, "find": find, "log": log, "issue": issue}


async def measure(h: Harness, w: World, repeat: int) -> dict[str, float]:
    for actor in (w.gongan, w.renshe, w.citizens[0]):  # a session token lasts less than growing 10M rows
        await h.login(actor)
    ops = operations(h, w)
    times: dict[str, list[float]] = {k: [] for k in ops}
    for i in range(repeat + 2):
        for name, op in ops.items():
            started = time.perf_counter()
            await op()
            if i >= 2:  # two untimed rounds first
                times[name].append(time.perf_counter() - started)
    await sign_head(h)  # anchors the issued records and the new access-log entries
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


# -- filler rows ------------------------------------------------------------------------------
