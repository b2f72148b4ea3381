"""The single submitter: runs the features' steps of a round, then drains the outbox in order.

It is the only code that sends transactions, so it owns every nonce. It runs in the API
process (``datavault up``); on PostgreSQL, where several workers may run, an advisory lock
elects one of them.

Entries are carried out in id order, and a round stops at the first one that is not settled:
a later write may depend on an earlier one (fund -> add_department -> issue). To fill the
blocks of a chain that seals one every few seconds, a round does not wait for each block: it
sends a run of one sender's entries at consecutive nonces (``in_flight`` at most), each still
signed and recorded before it leaves, then waits once for the last of them. Consecutive nonces
are mined in order, so the chain sees the writes in the order the one-at-a-time submitter
would send them. A run ends where the sender changes, and an entry that pre-flight refuses
while others are in flight waits for them rather than fail: it may depend on them. How a run
is sent and landed is in ``vault.outbox.pipeline``.
How one entry is carried out, crash after crash, is in ``vault.outbox.delivery``; how a transient
error delays it, in ``vault.outbox.backoff``; what a restart queues again, in ``vault.outbox.reconcile``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from chain.errors import ChainError
from vault import clock
from vault.context import VaultContext
from vault.outbox import queue
from vault.outbox.backoff import Backoff
from vault.outbox.delivery import Sent
from vault.outbox.operation import Op
from vault.outbox.pipeline import Pipeline, Run
from vault.outbox.reconcile import LostCheck, Rewind, requeue_lost
from vault.outbox.transitions import MAX_ATTEMPTS

__all__ = ["LEADER_LOCK", "MAX_ATTEMPTS", "RoundStep", "Submitter"]

log = logging.getLogger("vault.outbox")
LEADER_LOCK = 0x64617461  # "data": one submitter per PostgreSQL database
# Sent when outbox entries are inserted, at commit (migration 0013): the leader listens.
QUEUED = "datavault_outbox"
# Entries a round reads from the queue, and how many fresh ones are pre-flighted side by side.
QUEUE_READ, CHUNK = 2000, 32

# Work a feature does at the start of each round, before the queue is drained, so that what
# it enqueues goes out in the same round (the access log's tree head, a credential batch).
RoundStep = Callable[[int], Awaitable[object]]


class Submitter(Pipeline):
    """Carries out the outbox. What each kind does comes from the features (``ops``); so do the
    steps run before each round and the checks run after a restart: the outbox knows none of
    them by name (``vault.setup.make_submitter`` puts them together)."""

    def __init__(
        self,
        ctx: VaultContext,
        ops: Mapping[str, Op],
        *,
        steps: Sequence[RoundStep] = (),
        lost_checks: Sequence[LostCheck] = (),
        interval: float = 0.5,
        receipt_timeout: float = 30.0,
        max_backoff: float = 60.0,
        in_flight: int = 512,
    ) -> None:
        backoff = Backoff(ctx.sessions, interval=interval, max_backoff=max_backoff)
        super().__init__(ctx, ops, receipt_timeout=receipt_timeout, backoff=backoff)
        self.interval = interval
        # Transactions a round sends before waiting for a block; 1: one at a time.
        self.in_flight = max(1, in_flight)
        self.steps = list(steps)
        self.lost_checks = list(lost_checks)
        self.rewind = Rewind()
        self._wake = asyncio.Event()
        self._leader: AsyncConnection | None = None
        ctx.nudge = self.nudge

    @property
    def max_backoff(self) -> float:
        return self.backoff.max_backoff

    def nudge(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Run the features' steps, then carry out queued writes in order. Returns entries settled."""
        now = clock.now()
        for step in self.steps:
            await step(now)
        settled = await self._drain()
        # Once per round, after its writes settled: a block of theirs lost since the last look
        # is found now, and one lost before the next round is found at the end of it.
        await self._look_back()
        return settled

    async def _look_back(self) -> None:
        """Queues again the writes of blocks the chain lost since the last look."""
        chain = self.ctx.chain
        try:
            above = await chain.call(self.rewind.went_back, chain)
        except ChainError:
            # The node is away: the entries' own back-off deals with their writes, and the next
            # look goes back far enough for blocks it may lose meanwhile.
            self.rewind.missed = True
            return
        if above is not None:
            log.warning("the chain went back (a node restarted from older state); looking for lost writes")
            await requeue_lost(self.ctx, self.ops, self.lost_checks, above=above)

    async def _drain(self) -> int:
        """Carries out queued writes in order; returns how many settled."""
        async with self.ctx.sessions() as session:
            queued = [(e.id, e.sender) for e in await queue.pending(session, limit=QUEUE_READ)]
        pipelined = self.in_flight > 1
        settled = 0
        run = Run()
        i = 0
        while i < len(queued):
            entry_id, sender = queued[i]
            if run.ids and (sender != run.sender or len(run.ids) >= self.in_flight):
                landed, complete = await self.land(run)
                settled += landed
                if not complete:
                    return settled
                continue
            if pipelined:
                room = self.in_flight - len(run.ids)
                chunk = same_sender(queued[i : i + min(CHUNK, room)])
                sent = await self.send_chunk(chunk, sender, run) if len(chunk) > 1 else 0
                if sent:
                    i += sent
                    continue
            outcome = await self._process(entry_id, pipeline=pipelined, nonce=run.next_nonce, provisional=bool(run.ids))
            if isinstance(outcome, Sent):
                run.add(entry_id, sender, outcome.signed)
            elif outcome:
                settled += 1
            elif run.ids:
                # Refused while earlier writes are in flight, or waiting: decide once they are mined.
                landed, complete = await self.land(run)
                settled += landed
                if not complete:
                    return settled
                continue
            else:
                return settled  # keep order: a later write may depend on this one
            i += 1
        landed, _ = await self.land(run)
        return settled + landed

    async def reconcile(self) -> int:
        """After a restart, carry out again the writes the chain lost. Returns how many."""
        return await requeue_lost(self.ctx, self.ops, self.lost_checks)

    # -- leadership and the loop -----------------------------------------------------------

    async def acquire_leadership(self) -> bool:
        engine = self.ctx.sessions.kw["bind"]
        if engine.dialect.name != "postgresql":
            return True
        self._leader = await engine.connect()
        got = await self._leader.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})
        if got:
            # A write queued through another worker wakes this one when it commits, not at
            # the next round. The listener lives as long as the lock's connection.
            raw = await self._leader.get_raw_connection()
            await raw.driver_connection.add_listener(QUEUED, self._queued)  # type: ignore[union-attr]
            await self._leader.commit()
        return bool(got)

    def _queued(self, *_: object) -> None:
        self.nudge()

    async def release(self) -> None:
        if self._leader is not None:
            # Closing gives the connection back to the pool, still holding a session-level
            # lock (and listening): it is let go of explicitly, or no other worker could lead
            # until this process ends. Dropped from the pool instead if that fails.
            try:
                raw = await self._leader.get_raw_connection()
                await raw.driver_connection.remove_listener(QUEUED, self._queued)  # type: ignore[union-attr]
                await self._leader.execute(text("SELECT pg_advisory_unlock_all()"))
                await self._leader.commit()
            except Exception:
                await self._leader.invalidate()
            await self._leader.close()
            self._leader = None

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await self.acquire_leadership():
                break
            await self.release()
            await asyncio.sleep(5)
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # never let one bad round kill the only submitter
                log.exception("submitter round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
        await self.release()


def same_sender(queued: list[tuple[int, str]]) -> list[int]:
    """The leading entries of ``queued`` sent by its first entry's sender."""
    if not queued:
        return []
    first = queued[0][1]
    ids = []
    for entry_id, sender in queued:
        if sender != first:
            break
        ids.append(entry_id)
    return ids
