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
        prepared = await asyncio.gather(*(self._prepare(e) for e in plain))
        ready: list[Ready] = []
        for item in prepared:
            if item is None:
                break
            ready.append(item)
        if not ready:
            return 0
        signed = await self._sign_many(sender, ready, run.next_nonce)
        async with self.ctx.sessions.begin() as session:
            now = clock.now()
            held = await transitions.prefetch(session, [item.entry_id for item in ready])
            for item, tx in zip(ready, signed, strict=True):
                queue.record_signed(await transitions.active(session, item.entry_id), tx, now)
            del held
        chain = self.ctx.chain
        sent = 0
        for item, tx in zip(ready, signed, strict=True):
            try:
                await chain.call(transactions.broadcast, chain.engine.w3, tx, chain.client.abi)
            except ChainError:
                # Recorded, perhaps not sent: the per-entry protocol looks at its fate.
                break
            run.add(item.entry_id, sender, tx)
            sent += 1
        return sent

    async def _prepare(self, entry: OutboxEntry) -> Ready | None:
        """The entry's transaction and its gas, or None if it is not plain: already on chain,
        nothing to send, refused at pre-flight, or the node failed to answer."""
        op = self.ops[entry.kind]
        payload = queue.payload_of(entry)
        chain = self.ctx.chain
        try:
            # An entry never signed nor sent back to the queue has no transaction of ours out
            # there; were its effect on chain anyway (a grant someone else relayed), pre-flight
            # refuses it and the per-entry protocol asks ``applied``. One request saved.
            fresh = entry.signed_at is None and entry.attempts == 0 and entry.last_error is None
            if not fresh and await chain.call(op.applied, chain, payload):
                return None
            request = await self._build(op, payload)
            if request is None:
                return None
            account = self.ctx.account(entry.sender)
            call = transactions.call_of(account.address, request.to, request.data, request.value)
            gas = await chain.call(transactions.estimate_gas, chain.engine.w3, call, chain.client.abi, request.context)
        except Exception:  # whatever it is, the per-entry protocol decides and reports it
            return None
        return Ready(entry.id, request, gas)

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
        """The leading entries whose recorded transaction is mined and succeeded."""
        chain = self.ctx.chain
        w3, abi = chain.engine.w3, chain.client.abi

        async def one(entry: OutboxEntry) -> TxResult | None:
            signed = queue.signed_of(entry)
            if signed is None or entry.kind not in self.ops:
                return None
            try:
                return await chain.call(transactions.receipt_for, w3, signed.tx_hash, abi)
            except ChainError:  # reverted, or the node failed: the per-entry protocol decides
                return None

        results = await asyncio.gather(*(one(e) for e in entries))
        mined = []
        for entry, result in zip(entries, results, strict=True):
            if result is None:
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
