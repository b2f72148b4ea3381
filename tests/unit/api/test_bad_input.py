"""Input that used to give a 500 or store garbage: non-finite numbers, lone surrogates, fields
nested absurdly deep, malformed addresses, ids past 2^63, bodies over the size limit. Each is a
4xx problem with a reason, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.limits import DEFAULT_MAX_BODY, ROUTE_BODY
from tests.bulk_conformance import item
from tests.support.harness import CITIZEN_ID, YEAR, Actor, Harness, open_harness
from vault import clock
from vault.config import Settings
from vault.credentials.documents import DocumentSpec, check_spec
from vault.db.models import Record
from vault.errors import VaultValueError

RECORD = (
    '{"subject":{"kind":"citizen","identifier":"' + CITIZEN_ID + '"},"type":"licence",'
    '"title":"驾驶证","valid_until":2000000000,"fields":%s}'
)


@dataclass
class World:
    h: Harness
    dept: Actor
    citizen: Actor


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    h = await open_harness(tmp_path, chain="inprocess")
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    yield World(h, dept, citizen)
    await h.close()


async def records(h: Harness) -> int:
    async with h.vault.ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Record)) or 0)


async def post_raw(w: World, path: str, text: str) -> httpx.Response:
    headers = {**w.dept.headers, "Content-Type": "application/json"}
    return await w.h.http.post(path, content=text.encode("utf-8", "surrogatepass"), headers=headers)


def assert_problem(r: httpx.Response, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.json()["detail"], r.json()


@pytest.mark.parametrize(
    "fields,words",
    [
        ('{"分数": NaN}', "NaN is not a JSON number"),
        ('{"分数": Infinity}', "Infinity is not a JSON number"),
        ('{"分数": -Infinity}', "-Infinity is not a JSON number"),
        ('{"分数": 1e400}', "1e400 is too large"),
        ('{"姓名": "\\ud800"}', "not valid Unicode"),
        ('{"\\udfff": "张三"}', "not valid Unicode"),
        ('{"a": ' + "[" * 1000 + "]" * 1000 + "}", "deeper than 64 levels"),
    ],
)
async def test_unrepresentable_json_is_refused_and_nothing_is_written(world: World, fields: str, words: str) -> None:
    before = await records(world.h)
    r = await post_raw(world, "/records", RECORD % fields)
    assert_problem(r, 400, words)
    assert await records(world.h) == before
    # Bulk issuance, the same way.
    r = await post_raw(world, "/records/bulk", '{"items": [%s]}' % (RECORD % fields))
    assert_problem(r, 400, words)
    assert await records(world.h) == before


async def test_non_finite_numbers_are_refused_on_any_route(world: World) -> None:
    r = await world.h.http.post(
        "/auth/challenge", content=b'{"address": NaN}', headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 400, "NaN")
    r = await world.h.http.post(
        "/verify", content=b'{"document": {"version": 2, "x": 1e999}}', headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 400, "too large")


def nested(depth: int) -> Any:
    """``depth`` levels of objects."""
    value: Any = "底"
    for _ in range(depth):
        value = {"层": value}
    return value


async def test_record_fields_nest_at_most_32_levels(world: World) -> None:
    before = await records(world.h)
    r = await post_raw(world, "/records", RECORD % json.dumps(nested(33)))
    assert_problem(r, 422, "fields: nested deeper than 32 levels")
    assert r.json()["field"] == "fields"
    assert await records(world.h) == before
    r = await post_raw(world, "/records", RECORD % json.dumps(nested(32)))
    assert r.status_code == 201, r.text


def test_the_vault_refuses_what_cannot_be_hashed_whoever_calls_it() -> None:
    for fields in ({"a": float("nan")}, {"a": [float("inf")]}, {"a": "\ud800"}, nested(40)):
        spec = DocumentSpec("licence", "t", fields, 0, clock.now() + YEAR)
        with pytest.raises(VaultValueError) as refused:
            check_spec(spec)
        assert refused.value.field == "fields"


async def test_a_malformed_agent_address_is_a_422(world: World) -> None:
    sid = (await world.h.http.get("/me", headers=world.citizen.headers)).json()["id"]
    for agent in ("0xZZ", "0x" + "g" * 40, "12345"):
        r = await world.h.http.get(
            "/delegations/check", params={"subject_id": sid, "agent": agent}, headers=world.dept.headers
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"]


@pytest.mark.parametrize(
    "who,path",
    [
        ("citizen", "/me/delegations/1000000000000000000000000000000/revoke/prepare"),
        ("citizen", "/me/delegations/9223372036854775808/revoke"),
        ("dept", "/notifications/9999999999999999999999999999999999999999/read"),
        ("dept", "/notifications/0/read"),
    ],
)
async def test_ids_outside_bigint_are_refused(world: World, who: str, path: str) -> None:
    actor = world.citizen if who == "citizen" else world.dept
    body = {"signature": "0x" + "00" * 65} if path.endswith("/revoke") else None
    r = await world.h.http.post(path, json=body, headers=actor.headers)
    assert r.status_code == 422, r.text
    assert "less than or equal to 9223372036854775807" in r.text or "greater than or equal to 1" in r.text


@pytest.fixture
async def small(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The same vault behind an app whose body limit is 2,000 bytes."""
    settings = Settings(datadir=world.h.datadir, chain="inprocess", max_body_bytes=2_000)
    app = create_app(settings=settings, vault=world.h.vault, run_submitter=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vault.test") as client:
        yield client


async def test_a_declared_length_over_the_limit_is_413_at_once(world: World, small: httpx.AsyncClient) -> None:
    before = await records(world.h)
    body = (RECORD % json.dumps({"备注": "字" * 1_000})).encode()
    r = await small.post("/records", content=body, headers={**world.dept.headers, "Content-Type": "application/json"})
    assert_problem(r, 413, "over the limit of 2,000 bytes for this route")
    assert f"({len(body):,} bytes)" in r.json()["detail"]
    assert await records(world.h) == before
    r = await small.post(
        "/records",
        content=(RECORD % '{"姓名": "张三"}').encode(),
        headers={**world.dept.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text


async def test_a_chunked_body_is_counted_as_it_arrives(world: World, small: httpx.AsyncClient) -> None:
    sent = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 500

    r = await small.post(
        "/records", content=chunks(), headers={**world.dept.headers, "Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "over the limit of 2,000 bytes for this route")
    assert len(sent) < 100  # refused before the whole body was read


def test_the_default_limit_holds_a_full_bulk_request() -> None:
    # As bench/bulk_issue.py sends them: 10,000 items of three fields each.
    items = [
        item(f"1101051949123{n:05d}", fields={"编号": f"NCR-{n:06d}", "结论": "无犯罪记录", "出具单位": "市公安局"})
        for n in range(10_000)
    ]
    size = len(json.dumps({"items": items}).encode())
    assert 1_000_000 < size < DEFAULT_MAX_BODY // 2


async def test_only_bulk_issuance_and_pictures_take_large_bodies(world: World) -> None:
    # Refusing JSON costs the event loop its parse: a large body from anyone, before login,
    # would stall every other request. Only the routes that need them take large bodies.
    junk = b"[" + b"{}," * (ROUTE_BODY // 3) + b"{}]"
    r = await world.h.http.post("/auth/challenge", content=junk, headers={"Content-Type": "application/json"})
    assert_problem(r, 413, f"over the limit of {ROUTE_BODY:,} bytes for this route")
    items = [item(f"1101051949123{n:05d}", fields={"编号": f"NCR-{n:06d}", "备注": "字" * 200}) for n in range(400)]
    body = json.dumps({"items": items, "dry_run": True}).encode()
    assert len(body) > ROUTE_BODY
    r = await world.h.http.post(
        "/records/bulk", content=body, headers={**world.dept.headers, "Content-Type": "application/json"}
    )
    assert r.status_code != 413, r.text
