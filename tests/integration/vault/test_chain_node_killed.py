"""kill -9 of the anvil node under a running API: every operation of the OpenAPI document,
called as every role, answers in bounded time with a success, a refusal of the caller, or 503
with a reason, never another 5xx, and no answer names the node's address.

The routes come from ``app.openapi()``, so a route added later is called here without anyone
listing it: path ids are filled from seeded data, bodies from known valid ones or built from
the request schema.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from keys import SigningKey
from tests.audit_api_conformance import register_auditor
from tests.delegation_conformance import appoint
from tests.support.harness import CITIZEN_ID, YEAR, Actor, Harness, open_harness
from vault import clock

pytestmark = pytest.mark.integration

PER_REQUEST = 30.0  # seconds; far above anything a refused connection costs
# What a caller may be told while the node is down: a success, that it may not do this (or
# that what it names does not exist / its input is wrong), or that the chain is unavailable.
ALLOWED = {400, 401, 403, 404, 409, 410, 422, 429, 503}
# These read or check the chain on every call: only the chain being down can be their answer.
CHAIN_ROUTES = {
    ("post", "/verify"),
    ("get", "/status/snapshot"),
    ("get", "/delegations/check"),
    ("post", "/audit/verify"),
    ("get", "/audit/heads"),
    ("get", "/health/ready"),
}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="anvil")
    try:
        yield h
    finally:
        await h.close()


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][name]
    return schema


def minimal(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """The smallest value of ``schema`` that has every required part."""
    schema = resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [resolve(doc, s) for s in schema[key]]
            chosen = next((s for s in options if s.get("type") != "null"), options[0])
            return minimal(doc, chosen, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if kind == "object" and depth < 8:
        props = schema.get("properties", {})
        return {name: minimal(doc, props.get(name, {}), depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(doc, schema["items"], depth + 1)] if schema.get("minItems") and "items" in schema else []
    return {"string": "x", "integer": max(1, int(schema.get("minimum", 1))), "number": 1, "boolean": False}.get(
        kind, {}
    )


async def seed(h: Harness) -> dict[str, Any]:
    dept = await h.department("gongan", roles=["issuer", "verifier", "registrar", "data_user"])
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    auditor = await register_auditor(h)
    agent = Actor(SigningKey.generate())
    delegation = await appoint(h, citizen, agent.key, types=["licence"])
    await h.login(agent)
    me = (await h.http.get("/me", headers=citizen.headers)).json()
    document = (await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)).json()["document"]
    return {
        "dept": dept,
        "citizen": citizen,
        "auditor": auditor,
        "agent": agent,
        "subject_id": me["id"],
        "record": record,
        "document": document,
        "delegation": delegation,
    }


def known_bodies(s: dict[str, Any]) -> dict[tuple[str, str], Any]:
    newcomer = SigningKey.generate().address
    return {
        ("post", "/auth/challenge"): {"address": s["citizen"].key.address},
        ("post", "/verify"): {"document": s["document"]},
        ("post", "/records"): {
            "subject": {"kind": "citizen", "identifier": CITIZEN_ID},
            "type": "licence",
            "title": "驾驶证",
            "fields": {"姓名": "张三"},
            "valid_until": clock.now() + YEAR,
        },
        ("post", "/records/{record_id}/revoke"): {"reason": "遗失"},
        ("post", "/departments"): {"code": "shuiwu", "name": "税务局", "roles": ["issuer"], "auth_address": newcomer},
        ("post", "/subjects"): {
            "kind": "citizen",
            "identifier": "11010519800101001X",
            "name": "李四",
            "address": SigningKey.generate().address,
        },
        ("post", "/auditors"): {"address": SigningKey.generate().address, "name": "审计员"},
    }


def fill(path: str, s: dict[str, Any]) -> str:
    values = {
        "code": "gongan",
        "subject_id": s["subject_id"],
        "record_id": s["record"]["id"],
        "address": s["citizen"].key.address,
        "delegation_id": s["delegation"].get("id", 1),
    }
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    # The remaining ids (grants, delegations, corrections, notices) are plausible numbers.
    while "{" in path:
        start = path.index("{")
        path = path[:start] + "1" + path[path.index("}", start) + 1 :]
    return path


def query(op: dict[str, Any], doc: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in op.get("parameters", []):
        if p["in"] != "query" or not p.get("required"):
            continue
        params[p["name"]] = {"subject_id": s["subject_id"], "agent": s["dept"].key.address}.get(
            p["name"], minimal(doc, p.get("schema", {}))
        )
    return params


async def test_every_route_answers_without_a_500_or_a_hang_when_the_node_is_killed(harness: Harness) -> None:
    h = harness
    s = await seed(h)
    engine: Any = h.vault.ctx.chain.engine
    port = str(engine.rpc_url).rsplit(":", 1)[1]
    os.kill(engine.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while engine.is_running and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a process
        await asyncio.sleep(0.05)

    doc = h.app.openapi()
    bodies = known_bodies(s)
    roles: dict[str, Actor | None] = {
        "anonymous": None,
        "citizen": s["citizen"],
        "department": s["dept"],
        "auditor": s["auditor"],
        "admin": h.admin,
        "agent": s["agent"],
    }
    failures: list[str] = []
    reached: set[tuple[str, str]] = set()  # routes some role got past authorisation on
    calls = 0
    for template, ops in doc["paths"].items():
        for method, op in ops.items():
            url = fill(template, s)
            body, content = None, None
            declared = op.get("requestBody", {}).get("content", {})
            if "application/json" in declared:
                body = bodies.get((method, template), minimal(doc, declared["application/json"]["schema"]))
            elif declared:
                content = b"\x89PNG\r\n\x1a\n"  # an image upload: a few bytes that are none
            for actor in roles.values():
                # Fresh sessions for every operation: an earlier one may have logged a caller
                # out or replaced its key (logging in needs the database only).
                if actor is not None:
                    await h.login(actor)
            for role, actor in roles.items():
                calls += 1
                headers = dict(actor.headers) if actor is not None else {}
                if content is not None:
                    headers["Content-Type"] = next(iter(declared))
                request = h.http.request(
                    method.upper(), url, json=body, content=content, params=query(op, doc, s), headers=headers
                )
                try:
                    r = await asyncio.wait_for(request, PER_REQUEST)
                except TimeoutError:
                    failures.append(f"{method.upper()} {url} as {role}: no answer in {PER_REQUEST:g}s")
                    continue
                where = f"{method.upper()} {url} as {role}: {r.status_code} {r.text[:300]}"
                if not (200 <= r.status_code < 300 or r.status_code in ALLOWED):
                    failures.append(where)
                if "127.0.0.1" in r.text or f":{port}" in r.text:
                    failures.append(f"{where} (names the node's address)")
                if r.status_code >= 400 and not r.headers["content-type"].startswith("application/problem+json"):
                    failures.append(f"{where} (not problem+json)")
                if r.status_code == 503 and not r.json().get("detail"):
                    failures.append(f"{where} (503 without a reason)")
                if r.status_code not in (401, 403):
                    reached.add((method, template))

                if (method, template) in CHAIN_ROUTES and r.status_code not in (401, 403, 503):
                    failures.append(f"{where} (a chain route that did not say the chain is down)")
    assert not failures, "\n".join(failures)
    assert calls >= 6 * 60
    assert reached >= CHAIN_ROUTES, CHAIN_ROUTES - reached
    every = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert reached == every, f"refused to every role: {every - reached}"
    health = (await h.http.get("/health")).json()
    assert health["status"] == "degraded" and health["chain"]["status"] == "down"


async def test_health_and_readiness_follow_the_node(harness: Harness) -> None:
    h = harness
    assert (await h.http.get("/health/ready")).status_code == 200
    engine: Any = h.vault.ctx.chain.engine
    os.kill(engine.pid, signal.SIGKILL)
    started = time.monotonic()
    r = await h.http.get("/health")
    assert r.status_code == 200 and r.json()["chain"]["status"] == "down"
    assert r.json()["database"]["status"] == "ok"
    ready = await h.http.get("/health/ready")
    assert ready.status_code == 503 and "chain" in ready.json()["detail"]
    assert time.monotonic() - started < 10
