"""With several workers on PostgreSQL, a chain write queued through a worker that does not
hold the submitter's lock wakes the one that does when it commits (migration 0013: the
insert's NOTIFY), not at its next round; a write rolled back wakes no one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.harness import open_harness
from tests.support.postgres import fresh_database
from vault import clock
from vault.db.engine import create_engine, session_factory
from vault.outbox import queue
from vault.setup import make_submitter

pytestmark = pytest.mark.integration


async def test_a_write_queued_by_another_worker_wakes_the_leader_when_it_commits(tmp_path: Path) -> None:
    async with fresh_database() as url:
        h = await open_harness(tmp_path, database_url=url)
        other = create_engine(url)  # another worker's connections to the same database
        try:
            leader = h.vault.submitter
            assert await leader.acquire_leadership()
            woken = asyncio.Event()
            leader.nudge = woken.set  # type: ignore[method-assign]
            sessions = session_factory(other)

            async with sessions() as session:
                queue.enqueue(session, "issue", "operator", {"root": "0x" + "11" * 32}, clock.now())
                await session.flush()
                await asyncio.sleep(0.5)
                assert not woken.is_set()  # not before it commits
                await session.rollback()
            await asyncio.sleep(0.5)
            assert not woken.is_set()  # nor for a write that never was

            async with sessions.begin() as session:
                queue.enqueue(session, "issue", "operator", {"root": "0x" + "22" * 32}, clock.now())
            await asyncio.wait_for(woken.wait(), timeout=10)  # the round would be 0.5 s .. minutes away
        finally:
            await other.dispose()
            await h.close()


async def test_one_submitter_leads_until_it_lets_go(tmp_path: Path) -> None:
    async with fresh_database() as url:
        h = await open_harness(tmp_path, database_url=url)
        try:
            first, second = make_submitter(h.vault.ctx), make_submitter(h.vault.ctx)
            assert await first.acquire_leadership()
            await asyncio.sleep(0.2)  # the lock outlives the transaction that took it
            assert not await second.acquire_leadership()
            await second.release()
            await first.release()
            assert await second.acquire_leadership()
            await second.release()
        finally:
            await h.close()
