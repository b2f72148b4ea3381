"""The world the flows bench runs in: an issuer, a counter and one citizen per issuer, seeded
over HTTP, and one watcher telling every issuer when its records are anchored.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import http_load

from keys import SigningKey
from tests.support import chaos
from vault.accounts.identifiers import resident_id_check

SHOWN = ["姓名", "准驾车型"]


@dataclass(frozen=True)
class Citizen:
    key: SigningKey
    identifier: str
    headers: dict[str, str]


@dataclass(frozen=True)
class World:
    url: str
    issuer: dict[str, str]  # headers
    counter: dict[str, str]
    citizens: list[Citizen]


def citizen_id(n: int) -> str:
    first17 = f"1101051990{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336 % 1000:03d}"
    return first17 + resident_id_check(first17)


def licence(identifier: str, n: int) -> dict[str, Any]:
    return {
        "subject": {"kind": "citizen", "identifier": identifier},
        "type": "licence",
        "title": f"机动车驾驶证 {n}",
        "fields": chaos.LICENCE,
        "valid_until": int(time.time()) + 365 * 86400,
    }


async def seed(url: str, datadir: Path, citizens: int) -> World:
    """The issuer's and the counter's headers, and ``citizens`` registered and logged in."""
    outcome = chaos.Outcome()
    issuer, citizen, reader, _ = await chaos.seed(url, datadir, outcome)
    admin = await chaos.admin_of(url, datadir, outcome)
    counter = await chaos.department(admin, "jiaotong", ["verifier"], "交通")
    people = []
    for n in range(citizens):
        key = SigningKey.generate()
        identifier = citizen_id(n)
        person = {"kind": "citizen", "identifier": identifier, "name": f"市民{n}", "address": key.address}
        await issuer.post("/subjects", person)
        api = await chaos.Api(url, key, outcome).login()
        people.append(Citizen(key, identifier, api.headers))
        await api.close()
    world = World(url, issuer.headers, counter.headers, people)
    for api in (issuer, citizen, reader, admin, counter):
        await api.close()
    return world


class Anchors:
    """One watcher for every issuer: which of the records issued are anchored yet."""

    def __init__(self, connection: http_load.Connection, headers: dict[str, str], every: float) -> None:
        self.connection, self.headers, self.every = connection, headers, every
        self.waiting: dict[str, asyncio.Future[None]] = {}

    def wait(self, ids: list[str]) -> list[asyncio.Future[None]]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in ids]
        self.waiting.update(zip(ids, futures, strict=True))
        return futures

    async def ask(self) -> None:
        body = json.dumps({"ids": list(self.waiting)}).encode()
        status, answer = await self.connection.call("POST", "/records/status", self.headers, body)
        assert status == 200, (status, answer[:300])
        for s in json.loads(answer):
            if s["status"] == "anchored":
                self.waiting.pop(s["id"]).set_result(None)
            elif s["status"] != "pending":
                self.waiting.pop(s["id"]).set_exception(AssertionError(f"record {s['id']}: {s['status']}"))

    async def watch(self) -> None:
        while True:
            if self.waiting:
                await self.ask()
            await asyncio.sleep(self.every)
