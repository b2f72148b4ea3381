"""The database side of an outbox entry's moves, each committed in a transaction of its own.

``vault.outbox.delivery`` decides *which* move an entry makes; this module makes it durable. Every
move re-reads the entry inside its transaction and gives up with ``Settled`` if the entry is
no longer active, so a move never overwrites an entry that reached ``done`` or ``failed``
since it was loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.errors import ChainRevertError
from chain.transactions import SignedTx, TxResult
from vault import clock
from vault.db.models import OutboxEntry
from vault.outbox import queue
from vault.outbox.operation import Op, Payload

# Logged as the outbox, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.outbox")
Sessions = async_sessionmaker[AsyncSession]
# A transaction that was mined but reverted is signed again (state may have moved between
# pre-flight and inclusion); after this many tries the revert is taken as final.
MAX_ATTEMPTS = 20


class Settled(Exception):
    """The entry reached a final state while being resolved."""


async def load(sessions: Sessions, entry_id: int) -> OutboxEntry | None:
    async with sessions() as session:
        return await session.get(OutboxEntry, entry_id)


async def prefetch(session: AsyncSession, ids: Sequence[int]) -> list[OutboxEntry]:
    """Loads the entries in one query, so that ``active`` finds each in the identity map; the
    caller keeps the list while it works (the map holds rows weakly)."""
    return list(await session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids))))


async def active(session: AsyncSession, entry_id: int) -> OutboxEntry:
    entry = await session.get(OutboxEntry, entry_id)
    if entry is None or entry.status not in queue.ACTIVE:
        raise Settled()
    return entry


async def record(sessions: Sessions, entry_id: int, signed: SignedTx) -> None:
    """``signed``: the bytes are in the database before they may leave the process."""
    async with sessions.begin() as session:
        entry = await active(session, entry_id)
        queue.record_signed(entry, signed, clock.now())


async def settle(
    sessions: Sessions,
    entry_id: int,
    op: Op,
    payload: Payload,
    result: TxResult | None,
    *,
    ours: bool = True,
) -> None:
    """Done, with its effect, in one database transaction. ``ours=False``: the effect came
    from a transaction other than the one recorded (or none was), found by ``locate``."""
    async with sessions.begin() as session:
        await _settle(session, entry_id, op, payload, result, ours=ours)


async def settle_many(sessions: Sessions, mined: Sequence[tuple[int, Op, Payload, TxResult]]) -> None:
    """Each entry done by its recorded transaction, all in one database transaction: all or none."""
    async with sessions.begin() as session:
        held = await prefetch(session, [entry_id for entry_id, *_ in mined])
        for entry_id, op, payload, result in mined:
            await _settle(session, entry_id, op, payload, result, ours=True)
        del held


async def _settle(
    session: AsyncSession, entry_id: int, op: Op, payload: Payload, result: TxResult | None, *, ours: bool
) -> None:
    entry = await active(session, entry_id)
    now = clock.now()
    if not ours:
        queue.forget_signed(entry, now)
    if result is not None:
        entry.tx_hash = encode_hex(result.tx_hash)
        entry.block_number = result.block_number
    entry.raw_tx = None  # on chain now, or never needed
    entry.status = "done"
    entry.updated_at = now
    if op.done is not None:
        await op.done(session, payload, result)


async def refuse(
    sessions: Sessions,
    entry_id: int,
    op: Op,
    payload: Payload,
    exc: ChainRevertError,
) -> None:
    """``failed``: the chain says the write cannot succeed as things stand."""
    log.warning("outbox %s refused by the chain: %s", entry_id, exc)
    async with sessions.begin() as session:
        try:
            entry = await active(session, entry_id)
        except Settled:
            return
        entry.status, entry.last_error = "failed", str(exc)[:1000]
        entry.raw_tx = None
        entry.updated_at = clock.now()
        if op.failed is not None:
            await op.failed(session, payload, exc.error_name)


async def fail(sessions: Sessions, entry_id: int, op: Op, payload: Payload, exc: Exception) -> None:
    """``failed`` after errors that are not the node's or the database's (a bug, see
    ``vault.outbox.backoff``): retrying would hold up every later entry forever. What the entry
    carried fails too, with the error's type as the reason."""
    log.error("outbox %s failed: %s: %s", entry_id, type(exc).__name__, exc)
    async with sessions.begin() as session:
        try:
            entry = await active(session, entry_id)
        except Settled:
            return
        entry.status, entry.last_error = "failed", f"{type(exc).__name__}: {exc}"[:1000]
        entry.raw_tx = None
        entry.updated_at = clock.now()
        if op.failed is not None:
            await op.failed(session, payload, type(exc).__name__)


async def unsign(sessions: Sessions, entry_id: int, why: str) -> None:
    """Back to ``pending``: the recorded transaction can never be mined."""
    async with sessions.begin() as session:
        entry = await active(session, entry_id)
        queue.forget_signed(entry, clock.now())
        entry.last_error = why[:1000]


async def count_revert(sessions: Sessions, entry_id: int, exc: ChainRevertError) -> bool:
    """Counts a revert after pre-flight; True once it is final (MAX_ATTEMPTS), else the
    entry is back to ``pending`` so that pre-flight, on the new state, decides."""
    async with sessions.begin() as session:
        entry = await active(session, entry_id)
        entry.attempts += 1
        final = entry.attempts >= MAX_ATTEMPTS
        if not final:
            log.warning(
                "outbox %s %s reverted after pre-flight (attempt %s): %s", entry_id, entry.kind, entry.attempts, exc
            )
            queue.forget_signed(entry, clock.now())
            entry.last_error = f"reverted: {exc}"[:1000]
    return final
