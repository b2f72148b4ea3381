"""Each step of a flow timed one at a time on a quiet vault: wall ms and the CPU ms each
process spent (``bench/flows.py --breakdown N``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import http_load
from flows_world import SHOWN, Anchors, World, licence
from process_cpu import cpu_between, cpu_seconds

from tests.support import chaos


async def breakdown(world: World, n: int, poll: float, pg_port: str) -> list[tuple[str, float, dict[str, float]]]:
    """Each step ``n`` times, one at a time, on a quiet vault: wall ms and CPU ms of each part
    per step. Issuing is timed with its anchoring (one at a time, each record is its own batch)."""
    url, citizen = world.url, world.citizens[0]
    issuer, own, counter = [await http_load.Connection.open(url) for _ in range(3)]
    watcher = Anchors(await http_load.Connection.open(url), world.issuer, poll)
    steps: list[tuple[str, float, dict[str, float]]] = []
    ids: list[str] = []
    answers: list[bytes] = []

    async def timed(what: str, call: Callable[[int], Awaitable[None]]) -> None:
        before, started = cpu_seconds(pg_port), time.perf_counter()
        for i in range(n):
            await call(i)
        wall = (time.perf_counter() - started) * 1000 / n
        steps.append((what, wall, {p: t * 1000 / n for p, t in cpu_between(before, cpu_seconds(pg_port)).items()}))

    async def issue(i: int) -> None:
        body = json.dumps(licence(citizen.identifier, 10_000_000 + i)).encode()
        status, answer = await issuer.call("POST", "/records", world.issuer, body)
        assert status == 201, (status, answer[:300])
        ids.append(json.loads(answer)["id"])
        futures = watcher.wait(ids[-1:])
        while not futures[0].done():
            await asyncio.sleep(poll)
            await watcher.ask()

    async def fetch(i: int) -> None:
        status, answer = await own.call("GET", f"/me/records/{ids[i]}", citizen.headers)
        assert status == 200, (status, answer[:300])
        record = json.loads(answer)
        answers.append(json.dumps({"document": record["document"], "proof": record["anchor"]["proof"]}).encode())

    async def verify(i: int) -> None:
        status, answer = await counter.call("POST", "/verify", world.counter, answers[i])
        assert status == 200 and b'"valid":true' in answer, (status, answer[:300])

    texts: list[bytes] = []

    async def prepare(i: int) -> None:
        ask = json.dumps({"record_id": ids[i], "fields": SHOWN, "ttl": 600}).encode()
        status, answer = await own.call("POST", "/me/presentations", citizen.headers, ask)
        assert status == 200, (status, answer[:300])
        texts.append(chaos.verify_body(citizen.key, json.loads(answer)))

    async def check(i: int) -> None:
        status, answer = await counter.call("POST", "/presentations/verify", world.counter, texts[i])
        assert status == 200 and b'"valid":true' in answer, (status, answer[:300])

    try:
        await timed("issue `POST /records`, with its anchoring and status asks", issue)
        await timed("citizen fetches it `GET /me/records/{id}`", fetch)
        await timed("counter verifies the document `POST /verify`", verify)
        await timed("citizen prepares a presentation `POST /me/presentations` (+ signs here)", prepare)
        await timed("counter verifies it `POST /presentations/verify`", check)
    finally:
        for c in (issuer, own, counter, watcher.connection):
            c.close()
    return steps
