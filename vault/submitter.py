"""The single submitter: batches pending credentials and drains the outbox in order.

It is the only code that sends transactions, so it owns every nonce. It runs in the API
process (``datavault up``); on PostgreSQL, where several workers may run, an advisory lock
elects one of them.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from web3.exceptions import Web3Exception

from chain.errors import ChainError, ChainRevertError
from vault import clock, outbox
from vault.anchoring import batch_pending
from vault.chain_ops import OPS
from vault.context import VaultContext
from vault.db.models import AnchorBatch, OutboxEntry, Record

log = logging.getLogger(__name__)
LEADER_LOCK = 0x64617461  # "data": one submitter per PostgreSQL database
MAX_ATTEMPTS = 20


class Submitter:
    def __init__(self, ctx: VaultContext, *, interval: float = 0.5, batch_max: int = 10_000) -> None:
        self.ctx = ctx
        self.interval = interval
        self.batch_max = batch_max
        self._wake = asyncio.Event()
        self._leader: AsyncConnection | None = None
        ctx.nudge = self.nudge

    def nudge(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Batch what is pending, then send every queued write. Returns entries settled."""
        now = clock.now()
        async with self.ctx.sessions.begin() as session:
            await batch_pending(session, now, self.batch_max)
        async with self.ctx.sessions() as session:
            ids = [e.id for e in await outbox.pending(session, limit=1000)]
        settled = 0
        for entry_id in ids:
            if not await self._process(entry_id):
                break  # keep order: a later write may depend on this one (fund -> add -> issue)
            settled += 1
        return settled

    async def _process(self, entry_id: int) -> bool:
        chain = self.ctx.chain
        async with self.ctx.sessions.begin() as session:
            entry = await session.get(OutboxEntry, entry_id)
            if entry is None or entry.status != "pending":
                return True
            op = OPS[entry.kind]
            payload = outbox.payload_of(entry)
            entry.updated_at = clock.now()
            try:
                result = None
                if not await chain.call(op.applied, chain, payload):
                    account = self.ctx.account(entry.sender)
                    result = await chain.call(op.send, chain, account, payload)
            except ChainRevertError as exc:
                # The chain said no for good (e.g. the issuer was deactivated meanwhile).
                reason = exc.error_name
                log.warning("outbox %s %s refused: %s", entry.id, entry.kind, exc)
                entry.status, entry.last_error = "failed", str(exc)[:1000]
                if op.failed is not None:
                    await op.failed(session, payload, reason)
                return True
            except (ChainError, Web3Exception, OSError, ValueError, TimeoutError) as exc:
                entry.attempts += 1
                entry.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                log.warning("outbox %s %s failed (attempt %s): %s", entry.id, entry.kind, entry.attempts, exc)
                if entry.attempts >= MAX_ATTEMPTS:
                    entry.status = "failed"
                    if op.failed is not None:
                        await op.failed(session, payload, "gave up after repeated errors")
                    return True
                return False
            if result is not None:
                entry.tx_hash = "0x" + result.tx_hash.hex()
                entry.block_number = result.block_number
            entry.status = "done"
            if op.done is not None:
                await op.done(session, payload, result)
            return True

    async def reconcile(self) -> int:
        """After a restart, re-queue anchors the chain lost (a node killed before it saved state).

        Returns how many batches were re-queued. Nothing is anchored twice: the contract refuses
        a root it already holds, and ``applied`` skips those.
        """
        chain = self.ctx.chain
        requeued = 0
        async with self.ctx.sessions.begin() as session:
            batches = await session.scalars(select(AnchorBatch).where(AnchorBatch.status == "anchored"))
            for batch in batches:
                status = await chain.call(chain.client.root_status, bytes.fromhex(batch.root[2:]))
                if status.anchored:
                    continue
                issuer_key = f"dept-{batch.issuer_code}-chain"
                batch.status, batch.tx_hash, batch.block_number = "pending", None, None
                for row in await session.scalars(select(Record).where(Record.batch_root == batch.root, Record.status == "anchored")):
                    row.status = "pending"
                outbox.enqueue(session, "issue", issuer_key, {"root": batch.root, "valid_from": batch.valid_from, "valid_until": batch.valid_until}, clock.now())
                requeued += 1
        return requeued

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
