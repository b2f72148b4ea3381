"""Filling blocks: many of one sender's entries in flight at consecutive nonces.

A chain that seals a block every few seconds mines one transaction per block if each waits
for its receipt before the next is signed. Here a run of one sender's entries goes out before
any is waited for, and the per-entry protocol of ``vault.outbox.delivery`` stays the judge of
everything that is not the plain path:

- ``send_chunk``: fresh (``pending``) entries are pre-flighted side by side, signed at
  consecutive nonces, *recorded in one database transaction*, and only then broadcast in nonce
  order. The first entry that is already on chain, refused at pre-flight, or otherwise not
  plain ends the chunk; it goes through ``Delivery._process`` once the entries before it are
  mined, since it may depend on them.
- ``land``: waits for the run's last transaction (one sender, consecutive nonces: once the last
  is mined, so is every one before it), reads the receipts side by side, and settles the mined
  entries in one database transaction. Anything else (a revert, a missing receipt, a failing
  ``done``) is left to ``Delivery._process``, entry by entry, in order.

A crash anywhere leaves each entry ``pending`` or ``signed`` with its bytes recorded: what the
one-at-a-time protocol resumes from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from chain import transactions
from chain.errors import ChainError
from chain.transactions import SignedTx, TxResult
from vault import clock
from vault.db.models import OutboxEntry
from vault.outbox import queue, transitions
from vault.outbox.delivery import Delivery, Sent
from vault.outbox.operation import Op, Payload, TxRequest

log = logging.getLogger("vault.outbox")


@dataclass(frozen=True)
class Ready:
    """A fresh entry pre-flighted and ready to sign."""

    entry_id: int
    request: TxRequest
    gas: int


class Run:
    """One sender's entries with the node and not yet settled, in nonce order."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.sender = ""
        self.next_nonce: int | None = None
        self._last: SignedTx | None = None

    @property
    def last(self) -> SignedTx:
        assert self._last is not None
        return self._last

    def add(self, entry_id: int, sender: str, signed: SignedTx) -> None:
        self.ids.append(entry_id)
        self.sender = sender
        self.next_nonce = signed.nonce + 1
        self._last = signed

    def clear(self) -> None:
        self.ids.clear()
        self.next_nonce = self._last = None


class Pipeline(Delivery):
    async def send_chunk(self, ids: Sequence[int], sender: str, run: Run) -> int:
        """Sends the plain prefix of ``ids`` (one sender's entries, in order) and adds it to
        ``run``. Returns how many were sent; the entry after them needs ``_process``."""
        async with self.ctx.sessions() as session:
            rows = await session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids)))
            entries = sorted(rows, key=lambda e: e.id)
        plain = []
        for entry in entries:
            if entry.status != "pending" or entry.kind not in self.ops or self.backoff.waiting(entry.id):
                break
            plain.append(entry)
        ready = await self._prepare(plain)
        if not ready:
            return 0
        signed = await self._sign_many(sender, ready, run.next_nonce)
        async with self.ctx.sessions.begin() as session:
            now = clock.now()
            held = await transitions.prefetch(session, [item.entry_id for item in ready])
            for item, tx in zip(ready, signed, strict=True):
                queue.record_signed(await transitions.active(session, item.entry_id), tx, now)
            del held
        try:
            refused = await self.ctx.chain.tx_batch.broadcasts(signed)
        except ChainError:
            refused = []  # none known to have been taken
        sent = 0
        for item, tx, why in zip(ready, signed, refused, strict=False):
            if why is not None:
                # Recorded, perhaps sent after all ("already known"): from here on the
                # per-entry protocol looks at each one's fate.
                break
            run.add(item.entry_id, sender, tx)
            sent += 1
        return sent

    async def _prepare(self, entries: Sequence[OutboxEntry]) -> list[Ready]:
        """The plain prefix of ``entries``, each with its transaction and gas: pre-flighted in
        one request. An entry already on chain, with nothing to send, refused at pre-flight or
        not answered for ends the prefix."""
        built = await self._requests(entries)
        plain: list[tuple[OutboxEntry, TxRequest]] = []
        for entry, request in zip(entries, built, strict=False):
            if request is None:
                break
            plain.append((entry, request))
        if not plain:
            return []
        chain = self.ctx.chain
        calls = [transactions.call_of(self.ctx.account(e.sender).address, r.to, r.data, r.value) for e, r in plain]
        try:
            gas = await chain.tx_batch.estimates(calls, chain.client.abi, [r.context for _, r in plain])
        except ChainError:  # the node failed: the per-entry protocol reports it
            return []
        ready = []
        for (entry, request), found in zip(plain, gas, strict=True):
            if not isinstance(found, int):
                break
            ready.append(Ready(entry.id, request, found))
        return ready

    async def _requests(self, entries: Sequence[OutboxEntry]) -> list[TxRequest | None]:
        """Each entry's transaction, up to the first that is not plain (already on chain,
        nothing to send, or anything went wrong: the per-entry protocol decides and reports
        it). The payloads are loaded in one session and built in one thread hop."""
        chain = self.ctx.chain
        # An entry never signed nor sent back to the queue has no transaction of ours out
        # there; were its effect on chain anyway (a grant someone else relayed), pre-flight
        # refuses it and the per-entry protocol asks ``applied``. One request saved.
        stale = [e for e in entries if not (e.signed_at is None and e.attempts == 0 and e.last_error is None)]
        try:
            applied = await asyncio.gather(
                *(chain.call(self.ops[e.kind].applied, chain, queue.payload_of(e)) for e in stale)
            )
        except Exception:
            return []
        on_chain = {e.id for e, done in zip(stale, applied, strict=True) if done}
        payloads: list[tuple[Op, Payload]] = []
        try:
            async with self.ctx.sessions() as session:
                for entry in entries:
                    if entry.id in on_chain:
                        break
                    op, payload = self.ops[entry.kind], queue.payload_of(entry)
                    payloads.append((op, await op.load(session, payload) if op.load is not None else payload))
        except Exception:
            return []

        def build_all() -> list[TxRequest | None]:
            built: list[TxRequest | None] = []
            for op, payload in payloads:
                try:
                    built.append(op.build(chain, payload))
                except Exception:
                    break
            return built

        return await asyncio.to_thread(build_all)

    async def _sign_many(self, sender: str, ready: Sequence[Ready], nonce: int | None) -> list[SignedTx]:
        chain = self.ctx.chain
        account = self.ctx.account(sender)

        def sign_all() -> list[SignedTx]:
            w3 = chain.engine.w3
            fees = transactions.fee_fields(w3)
            first = nonce if nonce is not None else transactions.next_nonce(w3, account.address)
            return [
                transactions.sign(
                    w3,
                    account,
                    to=r.request.to,
                    data=r.request.data,
                    value=r.request.value,
                    nonce=first + i,
                    gas=r.gas,
                    fees=fees,
                    context=r.request.context,
                )
                for i, r in enumerate(ready)
            ]

        return await chain.call(sign_all)

    async def land(self, run: Run) -> tuple[int, bool]:
        """Waits for the run's last transaction, then settles its entries in order. Returns how
        many settled, and whether all did; the run is empty afterwards."""
        if not run.ids:
            return 0, True
        ids = list(run.ids)
        last = run.last
        run.clear()
        await self._wait(last)
        async with self.ctx.sessions() as session:
            rows = await session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids)))
            entries = sorted(rows, key=lambda e: e.id)
        mined = await self._receipts(entries)
        settled = await self._settle_many(mined)
        for entry_id in ids[settled:]:
            outcome = await self._process(entry_id, pipeline=True)
            if isinstance(outcome, Sent) or not outcome:
                return settled, False
            settled += 1
        return settled, True

    async def _receipts(self, entries: Sequence[OutboxEntry]) -> list[tuple[int, Op, Payload, TxResult]]:
        """The leading entries whose recorded transaction is mined and succeeded: their
        receipts read in one request."""
        signed = []
        for entry in entries:
            tx = queue.signed_of(entry)
            if tx is None or entry.kind not in self.ops:
                break
            signed.append(tx)
        try:
            results = await self.ctx.chain.tx_batch.receipts([tx.tx_hash for tx in signed])
        except ChainError:  # the node failed: the per-entry protocol decides
            return []
        mined = []
        for entry, result in zip(entries, results, strict=False):
            if not isinstance(result, TxResult):  # not mined, or failed: the protocol says why
                break
            mined.append((entry.id, self.ops[entry.kind], queue.payload_of(entry), result))
        return mined

    async def _settle_many(self, mined: Sequence[tuple[int, Op, Payload, TxResult]]) -> int:
        """Settles ``mined`` in one database transaction; 0 if any of them would not (they are
        then settled one by one, where a failing ``done`` is handled)."""
        if not mined:
            return 0
        try:
            await transitions.settle_many(self.ctx.sessions, mined)
        except Exception as exc:
            log.info("outbox: settling %s entries together failed (%s); one by one", len(mined), exc)
            return 0
        return len(mined)
