"""After a restart: queue again the chain writes that the node lost.

A node killed before it saved its state comes back without its last blocks: entries recorded
in blocks above the chain's head go back to ``pending`` in place, so they keep their order (a
lost department registration still precedes its anchors). Anchors the chain does not hold for
any other reason (no transaction on record, another chain history) are caught by asking for
each root. Nothing is anchored twice: ``applied`` and the contract both refuse a root that is
already there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from eth_utils.hexadecimal import decode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

# Looked up through their modules at call time, so that replacing them takes effect.
from chain import transactions
from chain.errors import ChainRevertError
from vault import clock
from vault.context import ChainContext, VaultContext
from vault.db.models import OutboxEntry
from vault.outbox import queue
from vault.outbox.operation import Op

# Logged as the outbox, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.outbox")

# A feature's own look for writes the chain lost that left no entry above the head (a
# credential batch the vault holds as anchored): (chain, session, now) -> how many it queued.
LostCheck = Callable[[ChainContext, AsyncSession, int], Awaitable[int]]


async def requeue_lost(
    ctx: VaultContext, ops: Mapping[str, Op], checks: Sequence[LostCheck] = (), *, above: int | None = None
) -> int:
    """Carries out again the writes the chain lost. Returns how many. ``above``: look at writes
    recorded in blocks above this one (default: the chain's head), each kept if its
    transaction is still mined: a chain that lost blocks may have sealed new ones since."""
    chain = ctx.chain
    head = await chain.call(lambda: int(chain.engine.w3.eth.block_number))
    since = head if above is None else min(above, head)
    now = clock.now()
    requeued = 0
    async with ctx.sessions.begin() as session:
        lost = list(
            await session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.status == "done", OutboxEntry.block_number > since)
                .order_by(OutboxEntry.id)
            )
        )
        for entry in lost:
            if entry.tx_hash is not None and await chain.call(_still_mined, chain, entry.tx_hash):
                continue  # settled by a running submitter after we read the head
            op = ops[entry.kind]
            if await chain.call(op.applied, chain, queue.payload_of(entry)):
                # The effect is in the chain's state though its transaction is not on record:
                # a node restored from a state file keeps the state, not always the history.
                continue
            reason = f"the chain lost block {entry.block_number} (head is {head})"
            await requeue(session, entry, op, reason, now)
            requeued += 1
        for check in checks:
            requeued += await check(chain, session, now)
    if requeued:
        log.warning("reconcile: %s chain writes were lost by the node and are queued again", requeued)
    return requeued


async def requeue(session: AsyncSession, entry: OutboxEntry, op: Op, reason: str, now: int) -> None:
    """Puts a settled entry back to ``pending`` and undoes what its settling did."""
    queue.forget_signed(entry, now)
    entry.last_error = reason[:1000]
    if op.lost is not None:
        await op.lost(session, queue.payload_of(entry))


def _still_mined(chain: ChainContext, tx_hash: str) -> bool:
    try:
        return transactions.receipt_for(chain.engine.w3, decode_hex(tx_hash)) is not None
    except ChainRevertError:
        return True  # mined, if reverted: not lost


class Rewind:
    """Notices, between rounds, a chain that went back: a node killed before it saved its last
    blocks and started again, under a vault that kept running. It remembers the last block it
    saw by number and hash; when that block is gone or different, the writes recorded since
    are looked at again (``requeue_lost``)."""

    # How far below the remembered block the look goes: the node may have lost more than the
    # blocks after it (its state is saved every second or so).
    LOOK_BACK = 64

    def __init__(self) -> None:
        self.seen: tuple[int, bytes] | None = None
        # Set when a look could not be made (the node was away): writes recorded since the last
        # block seen may sit in blocks the node then lost, above a block it kept. So the next
        # look goes back LOOK_BACK blocks whatever it finds.
        self.missed = False

    def went_back(self, chain: ChainContext) -> int | None:
        """The block above which to look again, if the chain went back since the last call."""
        w3 = chain.engine.w3
        latest = w3.eth.get_block("latest")
        now_seen = (int(latest["number"]), bytes(latest["hash"]))
        before, self.seen = self.seen, now_seen
        if self.missed:
            self.missed = False
            lowest = now_seen[0] if before is None else min(before[0], now_seen[0])
            return max(lowest - self.LOOK_BACK, -1)
        if before is None:
            return None
        number, block_hash = before
        if number > now_seen[0]:
            return max(now_seen[0] - self.LOOK_BACK, -1)
        if number == now_seen[0]:
            same = now_seen[1] == block_hash
        else:
            same = bytes(w3.eth.get_block(number)["hash"]) == block_hash
        return None if same else max(number - self.LOOK_BACK, -1)
