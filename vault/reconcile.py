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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

# Looked up through their modules at call time, so that replacing them takes effect.
from chain import transactions
from chain.errors import ChainRevertError
from vault import chain_ops, clock, outbox
from vault.context import ChainContext, VaultContext
from vault.db.models import AnchorBatch, Department, OutboxEntry

# Logged as the submitter, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.submitter")


async def requeue_lost(ctx: VaultContext) -> int:
    """Carries out again the writes the chain lost. Returns how many."""
    chain = ctx.chain
    head = await chain.call(lambda: int(chain.engine.w3.eth.block_number))
    now = clock.now()
    requeued = 0
    async with ctx.sessions.begin() as session:
        lost = list(await session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.status == "done", OutboxEntry.block_number > head)
            .order_by(OutboxEntry.id)
        ))
        for entry in lost:
            if entry.tx_hash is not None and await chain.call(_still_mined, chain, entry.tx_hash):
                continue  # settled by a running submitter after we read the head
            await _requeue(session, entry, f"the chain lost block {entry.block_number} (head is {head})", now)
            requeued += 1
        batches = list(await session.scalars(select(AnchorBatch).where(AnchorBatch.status == "anchored")))
        for batch in batches:
            status = await chain.call(chain.client.root_status, bytes.fromhex(batch.root[2:]))
            if status.anchored:
                continue
            issue = await _issue_entry(session, batch.root)
            reason = f"the chain does not hold root {batch.root}"
            if issue is not None:
                await _requeue(session, issue, reason, now)
            else:
                payload = {"root": batch.root, "valid_from": batch.valid_from, "valid_until": batch.valid_until}
                lost_op = chain_ops.OPS["issue"].lost
                assert lost_op is not None
                await lost_op(session, payload)
                issuer = await session.get(Department, batch.issuer_code)
                assert issuer is not None
                outbox.enqueue(session, "issue", issuer.chain_key_name, payload, now).last_error = reason
            requeued += 1
    if requeued:
        log.warning("reconcile: %s chain writes were lost by the node and are queued again", requeued)
    return requeued


async def _requeue(session: AsyncSession, entry: OutboxEntry, reason: str, now: int) -> None:
    op = chain_ops.OPS[entry.kind]
    outbox.forget_signed(entry, now)
    entry.last_error = reason[:1000]
    if op.lost is not None:
        await op.lost(session, outbox.payload_of(entry))


async def _issue_entry(session: AsyncSession, root: str) -> OutboxEntry | None:
    """The outbox entry that anchored ``root`` (the payload is JSON; the root is unique hex)."""
    candidates = await session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.kind == "issue", OutboxEntry.status == "done", OutboxEntry.payload.contains(root))
        .order_by(OutboxEntry.id.desc())
    )
    for entry in candidates:
        if outbox.payload_of(entry).get("root") == root:
            return entry
    return None


def _still_mined(chain: ChainContext, tx_hash: str) -> bool:
    try:
        return transactions.receipt_for(chain.engine.w3, bytes.fromhex(tx_hash[2:])) is not None
    except ChainRevertError:
        return True  # mined, if reverted: not lost
