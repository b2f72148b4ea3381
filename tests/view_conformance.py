"""What the local chain view must do on every chain engine: answer exactly what the chain
says at its latest block, after every kind of change, while asking the node only for what
changed; share one look at the head among concurrent reads; start over when the chain goes
back.

Test modules import these tests and provide an ``engine`` fixture (a started Engine): the
in-process run is tests/unit/chain/test_view_inprocess.py, the real nodes (anvil, hardhat, a
zero-gas RPC chain behind a dead node) tests/integration/chain/test_view_engines.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.consent import ConsentClient
from chain.deployment import deploy
from chain.engines import Engine
from chain.merkle import merkle_proof, merkle_root
from chain.registry import RegistryClient, Roles
from chain.view import ChainView, Query, queries, view_of

CODE = b"gongan".ljust(32, b"\0")
YEAR = 365 * 24 * 3600


@dataclass
class World:
    engine: Engine
    registry: RegistryClient
    consent: ConsentClient
    admin: LocalAccount
    registrar: LocalAccount
    issuer: LocalAccount
    stranger: LocalAccount
    leaves: list[bytes]
    unknown: bytes  # a credential never issued
    subject: bytes
    view: ChainView

    def account(self) -> LocalAccount:
        acct: LocalAccount = Account.create()
        self.engine.fund(acct.address, 10**17)
        return acct

    def queries(self) -> list[Query[Any]]:
        """What a verifier asks: two credentials of the batch, a lone unknown one, the
        issuer, a non-department and the holder's key."""
        r = self.registry
        return [
            queries.credential_status(r, self.leaves[0], merkle_proof(self.leaves, 0)),
            queries.credential_status(r, self.leaves[1], merkle_proof(self.leaves, 1)),
            queries.credential_status(r, self.unknown, []),
            queries.department(r, self.issuer.address),
            queries.department(r, self.stranger.address),
            queries.subject_key(self.consent, self.subject),
        ]

    def direct(self) -> list[Any]:
        """The same, asked of the chain directly through the typed clients."""
        r, qs = self.registry, self.queries()
        status = [r.credential_status(q.key[2], q.key[3]) for q in qs[:3]]
        return [
            *status,
            r.department(self.issuer.address),
            r.department(self.stranger.address),
            self.consent.subject_key(self.subject),
        ]

    def read(self) -> list[Any]:
        async def go() -> list[Any]:
            qs = self.queries()
            found = [await self.view.read(q) for q in qs]
            return [f[0] for f in found]

        return asyncio.run(go())


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    admin = engine.dev_account()
    dep = deploy(engine, admin)
    registry = RegistryClient(engine.w3, dep.registry)
    consent = ConsentClient(engine.w3, dep.consent)

    def department(roles: int) -> LocalAccount:
        acct: LocalAccount = Account.create()
        engine.fund(acct.address, 10**17)
        registry.add_department(admin, acct.address, CODE, roles)
        return acct

    issuer, registrar = department(Roles.ISSUER), department(Roles.REGISTRAR)
    leaves = [os.urandom(32) for _ in range(4)]
    now = int(engine.w3.eth.get_block("latest")["timestamp"])
    registry.issue(issuer, merkle_root(leaves), now - 60, now + YEAR)
    subject = os.urandom(32)
    consent.bind_subject(registrar, subject, Account.create().address)
    stranger: LocalAccount = Account.create()
    view = view_of(engine, [registry.address, consent.address])
    yield World(engine, registry, consent, admin, registrar, issuer, stranger, leaves, os.urandom(32), subject, view)


def test_the_view_answers_what_the_chain_says(world: World) -> None:
    assert world.read() == world.direct()
    issued = world.read()[0]
    assert issued.anchored and issued.issuer == world.issuer.address and not issued.revoked
    assert world.read()[5].key is not None and world.read()[4] is None


def test_an_unchanged_chain_is_answered_from_the_view(world: World) -> None:
    world.read()
    misses, looks = world.view.stats.misses, world.view.stats.looks
    assert world.read() == world.direct()
    assert world.view.stats.misses == misses  # nothing asked again
    assert world.view.stats.looks == looks + 6  # but the head looked at for every read


def test_every_kind_of_change_shows_at_once_and_forgets_only_what_it_touched(world: World) -> None:
    """Each change is made on chain, then the view is read: it must equal the chain. The
    answers whose topics the change's log does not carry are not asked again (``kept``, by
    index into ``World.queries``); a log naming the issuer (a revocation) also makes the
    issuer's department be asked again, which costs a read and is never wrong."""
    w, r, c = world, world.registry, world.consent
    newcomer = w.account()
    changes = [
        ("revoke one credential", lambda: r.revoke_credential(w.issuer, w.leaves[0]), {1, 2, 4, 5}),
        (
            "rotate the holder's key",
            lambda: c.rotate_subject_key(w.registrar, w.subject, newcomer.address),
            {0, 1, 2, 3, 4},
        ),
        (
            "change the issuer's roles",
            lambda: r.set_roles(w.admin, w.issuer.address, Roles.ISSUER | 2),
            {0, 1, 2, 4, 5},
        ),
        ("deactivate the issuer", lambda: r.deactivate_department(w.admin, w.issuer.address), {0, 1, 2, 4, 5}),
        ("reactivate the issuer", lambda: r.reactivate_department(w.admin, w.issuer.address), {0, 1, 2, 4, 5}),
        ("register a department", lambda: r.add_department(w.admin, w.stranger.address, CODE, 1), {0, 1, 2, 3, 5}),
        ("revoke the batch", lambda: r.revoke(w.issuer, merkle_root(w.leaves)), {2, 4, 5}),
    ]
    before = w.read()
    for what, change, kept in changes:
        change()
        misses = w.view.stats.misses
        after = w.read()
        assert after == w.direct(), what
        assert after != before, f"{what}: nothing changed, so the test proves nothing"
        changed = {i for i in range(len(after)) if after[i] != before[i]}
        assert not changed & kept, what
        assert w.view.stats.misses - misses == len(after) - len(kept), what
        before = after
    assert before[0].revoked and before[1].revoked and before[4] is not None


def test_concurrent_reads_share_one_look_at_the_head(world: World) -> None:
    query = world.queries()[0]

    async def many() -> list[Any]:
        return list(await asyncio.gather(*(world.view.read(query) for _ in range(50))))

    asyncio.run(many())
    looks = world.view.stats.looks
    answers = asyncio.run(many())
    assert world.view.stats.looks == looks + 1
    assert all(a == answers[0] for a in answers) and answers[0][0] == world.direct()[0]


class HeldAnswer:
    """A real reader whose next answer about blocks is held back until ``release``: the
    node has been asked, its answer is on its way."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.release = asyncio.Event()
        self.asked = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)

    async def blocks(self, numbers: Any) -> Any:
        found = await self.reader.blocks(numbers)
        self.asked.set()
        await self.release.wait()
        return found


def test_a_read_never_takes_an_answer_from_before_it_began(world: World) -> None:
    """A read that arrives while a look is in flight waits for the next look: a change made
    after that look asked the head, but before the read arrived, must show."""
    w = world
    w.read()

    async def go() -> tuple[Any, Any]:
        held = HeldAnswer(w.view.reader)
        w.view.reader = held
        query = w.queries()[0]
        early = asyncio.ensure_future(w.view.read(query))
        await held.asked.wait()  # the head has been read; the change comes after
        await asyncio.to_thread(w.registry.revoke_credential, w.issuer, w.leaves[0])
        late = asyncio.ensure_future(w.view.read(query))
        await asyncio.sleep(0)
        held.release.set()
        return await early, await late

    early, late = asyncio.run(go())
    assert not early[0].revoked  # what the chain said when that look asked
    assert late[0].revoked and late[0] == w.direct()[0]


def test_a_chain_that_went_back_is_read_afresh(world: World) -> None:
    w = world
    w3 = w.engine.w3
    snapshot = w3.testing.snapshot()
    w.registry.revoke_credential(w.issuer, w.leaves[0])
    assert w.read()[0].revoked
    w3.testing.revert(snapshot)
    resets = w.view.stats.resets
    assert not w.read()[0].revoked
    assert w.view.stats.resets == resets + 1
    assert w.read() == w.direct()
