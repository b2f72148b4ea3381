"""The single submitter: batches pending credentials and drains the outbox in order.

It is the only code that sends transactions, so it owns every nonce. It runs in the API
process (``datavault up``); on PostgreSQL, where several workers may run, an advisory lock
elects one of them.

Entries are carried out in id order, one at a time, and a round stops at the first one that
is not settled: a later write may depend on an earlier one (fund -> add_department -> issue).
How one entry is carried out, crash after crash, is in ``vault.delivery``; how a transient
error delays it, in ``vault.backoff``; what a restart queues again, in ``vault.reconcile``.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from vault import clock, issuer_signatures, outbox
from vault.anchoring import batch_pending
from vault.audit_log import Sequencer
from vault.backoff import Backoff
from vault.context import VaultContext
from vault.db.models import Department
from vault.delivery import Delivery
from vault.reconcile import requeue_lost
from vault.transitions import MAX_ATTEMPTS

__all__ = ["LEADER_LOCK", "MAX_ATTEMPTS", "Submitter"]

log = logging.getLogger(__name__)
LEADER_LOCK = 0x64617461  # "data": one submitter per PostgreSQL database


class Submitter(Delivery):
    def __init__(
        self, ctx: VaultContext, *, interval: float = 0.5, batch_max: int = 10_000,
        receipt_timeout: float = 30.0, max_backoff: float = 60.0, sequencer: Sequencer | None = None,
    ) -> None:
        backoff = Backoff(ctx.sessions, interval=interval, max_backoff=max_backoff)
        super().__init__(ctx, receipt_timeout=receipt_timeout, backoff=backoff)
        self.interval = interval
        self.batch_max = batch_max
        self._wake = asyncio.Event()
        self._leader: AsyncConnection | None = None
        self.sequencer = sequencer
        ctx.nudge = self.nudge

    def _sign_batch(self, issuer: Department, root: bytes) -> str:
        return issuer_signatures.sign_batch(self.ctx, issuer, root)

    @property
    def max_backoff(self) -> float:
        return self.backoff.max_backoff

    def nudge(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Sequence the access log, batch what is pending, then carry out queued writes in order.
        Returns entries settled."""
        now = clock.now()
        if self.sequencer is not None:
            # First: a tree head it signs joins this round's writes.
            await self.sequencer.run_once(now)
        async with self.ctx.sessions.begin() as session:
            await batch_pending(session, now, self.batch_max, self._sign_batch)
        async with self.ctx.sessions() as session:
            ids = [e.id for e in await outbox.pending(session, limit=1000)]
        settled = 0
        for entry_id in ids:
            if not await self._process(entry_id):
                break  # keep order: a later write may depend on this one (fund -> add -> issue)
            settled += 1
        return settled

    async def reconcile(self) -> int:
        """After a restart, carry out again the writes the chain lost. Returns how many."""
        return await requeue_lost(self.ctx)

    # -- leadership and the loop -----------------------------------------------------------

    async def acquire_leadership(self) -> bool:
        engine = self.ctx.sessions.kw["bind"]
        if engine.dialect.name != "postgresql":
            return True
        self._leader = await engine.connect()
        got = await self._leader.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})
        return bool(got)

    async def release(self) -> None:
        if self._leader is not None:
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
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
        await self.release()
