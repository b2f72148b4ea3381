"""The API keeps the promises of its own OpenAPI document, for every role.

Schemathesis generates requests for every operation from the document (valid ones, and ones
that break the declared schema), sent as each role in turn to a vault seeded with real data
(path ids are real objects half the time). No answer may be a 5xx, and every answer must have
a declared status code, content type, headers and body schema. Bounded and derandomized: the
same cases every run, well under a minute on the in-process chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.harness import Actor, open_harness
from tests.support.world import World, build_world

ROLES = ("anonymous", "citizen", "department", "auditor", "admin")
# Cases per operation, per role, per generation mode (valid / schema-breaking).
EXAMPLES = int(os.environ.get("DATAVAULT_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BASE = "http://vault.test"


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # "check METHOD path -> status": a request


def actor_for(w: World, role: str) -> Actor | None:
    return {
        "anonymous": None,
        "citizen": w.zhang.actor,
        "department": w.gongan,
        "auditor": w.auditor,
        "admin": w.h.admin,
    }[role]


def real_ids(w: World) -> dict[str, list[Any]]:
    subjects = (w.zhang, w.li, w.firm)
    return {
        "subject_id": [s.id for s in subjects],
        "record_id": [s.licence["id"] for s in subjects],
        "grant_id": [s.grant["id"] for s in subjects],
        "correction_id": [s.correction["id"] for s in subjects],
        "delegation_id": [w.delegation["id"]],
        "notice_id": [w.notice_id],
        "code": ["renshe", "gongan"],
        "address": [w.agent.key.address],
    }


def describe(kwargs: dict[str, Any]) -> str:
    body = kwargs.get("json", kwargs.get("data"))
    text = f"{kwargs['method']} {kwargs['url']} params={kwargs.get('params') or {}} body={body!r}"
    return text[:400]


async def send(http: httpx.AsyncClient, kwargs: dict[str, Any]) -> httpx.Response:
    content = kwargs.get("data")
    return await http.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params") or None,
        headers=kwargs.get("headers"),
        cookies=kwargs.get("cookies") or None,
        **({"json": kwargs["json"]} if "json" in kwargs else {"content": content} if content is not None else {}),
    )


def fuzz(runner: asyncio.Runner, w: World, schema: Any, role: str) -> Tally:
    h, tally, ids = w.h, Tally(), real_ids(w)
    # From another client address than the harness's logins: the cases' login challenges
    # count against their own bound, and the role can still log in again.
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=h.app, client=("203.0.113.9", 4711)), base_url=BASE)
    actor = actor_for(w, role)
    pick = random.Random(role)

    def one(case: Any, mode: GenerationMode) -> None:
        if mode is GenerationMode.POSITIVE:
            for name in list(case.path_parameters or {}):
                if name in ids and pick.random() < 0.5:
                    case.path_parameters[name] = pick.choice(ids[name])
        kwargs = case.as_transport_kwargs(base_url=BASE)
        headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
        if actor is not None:
            headers["Authorization"] = f"Bearer {actor.token}"
        kwargs["headers"] = headers
        try:
            response = runner.run(send(http, kwargs))
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
            return  # a request no HTTP client can send (schemathesis's negative headers)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as failed:
            for failure in failed.exceptions if isinstance(failed, FailureGroup) else [failed]:
                key = f"{failure.title} | {case.method} {case.path} -> {response.status_code}"
                tally.failures.setdefault(key, f"{describe(kwargs)}\n      answer: {response.text[:300]}")
        if actor is not None and response.status_code == 401 and case.path != "/auth/token":
            # The case logged the token out (or its key was replaced): log in again if we can.
            with contextlib.suppress(AssertionError):
                runner.run(h.login(actor))

    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run_cases(operation.as_strategy(generation_mode=mode), lambda case, m=mode: one(case, m))
    finally:
        runner.run(http.aclose())
    return tally


def run_cases(strategy: st.SearchStrategy[Any], call: Callable[[Any], None]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def cases(case: Any) -> None:
        call(case)

    # Nothing to break: an operation without parameters or body has no negative cases.
    with contextlib.suppress(Unsatisfiable):
        cases()


def test_every_role_gets_only_declared_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with asyncio.Runner() as runner:
        h = runner.run(open_harness(tmp_path))
        try:
            w = runner.run(build_world(h))
            schema = schemathesis.openapi.from_dict(h.app.openapi())
            tallies = {role: fuzz(runner, w, schema, role) for role in ROLES}
        finally:
            runner.run(h.close())
    with capsys.disabled():
        print("\nschemathesis, per role: requests, failures, statuses")
        for role, t in tallies.items():
            print(
                f"  {role:10} {t.requests:5} requests {len(t.failures):3} failures  {dict(sorted(t.statuses.items()))}"
            )
            for key, example in t.failures.items():
                print(f"    {key}\n      {example}")
    assert all(t.requests > 0 for t in tallies.values())
    assert not any(t.failures for t in tallies.values()), "see the failures printed above"
