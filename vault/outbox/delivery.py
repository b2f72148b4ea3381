"""Carrying one outbox entry through to the chain, so that its write happens at most once.

Every write goes sign -> record -> broadcast -> wait, and an outbox entry moves through:

- ``pending``: nothing signed. If ``applied`` finds the effect already on chain, the entry is
  done; otherwise the transaction is pre-flighted and signed, and the signed bytes, hash,
  nonce and sender are committed (``signed``) *before* they are broadcast.
- ``signed``: resolved by its receipt. With no receipt and the node not knowing the hash, the
  same bytes are broadcast again: same nonce, so it is mined at most once, however often a
  crash repeats this. If that nonce was consumed by another transaction (ours was dropped or
  replaced), or the chain's next nonce fell below it (the node lost blocks), the entry returns
  to ``pending``, where ``applied`` is asked again before anything is re-signed. Bytes the
  node refuses to take again (fees rose meanwhile) are re-signed at the *same* nonce, so still
  at most one of them can ever be mined. A transaction mined but reverted goes back to
  ``pending`` too: pre-flight, on the new state, decides.
- ``done`` (tx hash and block recorded with the effect, in one database transaction) or
  ``failed``: only when the chain refuses the write at pre-flight, a decoded revert that says
  the write cannot succeed as things stand (or after MAX_ATTEMPTS reverts once mined).

An unreachable or misbehaving node is never a reason to fail an entry (``vault.outbox.backoff``); any
other error is a bug, and fails the entry after ``BUG_ATTEMPTS`` of them in a row.
The database side of each move is in ``vault.outbox.transitions``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from web3 import Web3

# Looked up through its module at call time (``transactions.sign``), and the operations through
# ``self.ops``: tests replace them to crash the process at a chosen step.
from chain import transactions
from chain.errors import ChainError, ChainRevertError, NodeUnavailable
from chain.transactions import SignedTx, TxResult
from vault.context import VaultContext
from vault.db.models import OutboxEntry
from vault.outbox import queue, transitions
from vault.outbox.backoff import BUG_ATTEMPTS, TRANSIENT, Backoff
from vault.outbox.operation import Op, Payload, TxRequest

# Logged as the outbox, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.outbox")
# A block comes every few seconds on a consortium chain: look four times a second at most,
# so that a round is not left waiting long after its block.
RECEIPT_POLL, RECEIPT_POLL_MAX = 0.05, 0.25
# At most this many passes over one entry per round: a dropped transaction is re-signed at once.
PASSES = 3
# Stands in for the operation of a kind no feature provides, so that its entry can fail.
UNKNOWN_KIND = Op(applied=lambda _c, _p: False, build=lambda _c, _p: None)


@dataclass(frozen=True)
class Sent:
    """The entry's transaction is recorded and with the node, its receipt not yet looked for:
    what ``_process`` answers in a pipelined round (``vault.outbox.submitter``)."""

    signed: SignedTx


class Delivery:
    """The per-entry protocol. ``vault.outbox.submitter.Submitter`` extends it rather than holding
    one, so every step stays replaceable on the submitter (crash tests patch ``_wait``)."""

    def __init__(self, ctx: VaultContext, ops: Mapping[str, Op], *, receipt_timeout: float, backoff: Backoff) -> None:
        self.ctx = ctx
        # Each feature's operations, by outbox kind (``vault.operations.OPS``): held, not
        # copied, so that a test replacing one entry replaces it here.
        self.ops = ops
        # How long one round waits for a broadcast transaction to be mined; a later round (or
        # a restart) picks the entry up again where it is.
        self.receipt_timeout = receipt_timeout
        self.backoff = backoff

    async def _process(
        self,
        entry_id: int,
        *,
        pipeline: bool = False,
        nonce: int | None = None,
        provisional: bool = False,
    ) -> bool | Sent:
        """Advances one entry; True once it is done or failed, False if it must wait.

        ``pipeline``: once the transaction is with the node, answer ``Sent`` rather than wait
        for its block. ``nonce``: sign at this nonce (the one after the sender's transactions
        already in flight). ``provisional``: earlier writes are in flight, so a refusal at
        pre-flight may only mean they are not mined yet: wait (False), never fail the entry.
        """
        if self.backoff.waiting(entry_id):
            return False
        for _ in range(PASSES):
            entry = await transitions.load(self.ctx.sessions, entry_id)
            if entry is None or entry.status not in queue.ACTIVE:
                self.backoff.clear(entry_id)
                return True
            payload = queue.payload_of(entry)
            op = self.ops.get(entry.kind)
            if op is None:  # a kind no feature provides: a bug, and it must not hold up the queue
                unknown = LookupError(f"no operation for outbox kind {entry.kind!r}")
                await transitions.fail(self.ctx.sessions, entry_id, UNKNOWN_KIND, payload, unknown)
                return True
            try:
                progress = await self._advance(entry, op, payload, pipeline=pipeline, nonce=nonce)
            except transitions.Settled:
                progress = True
            except ChainRevertError as exc:
                if provisional:
                    return False
                await transitions.refuse(self.ctx.sessions, entry_id, op, payload, exc)
                progress = True
            except TRANSIENT as exc:
                await self.backoff.retry_later(entry_id, exc)
                return False
            except Exception as exc:
                await self.backoff.retry_later(entry_id, exc)
                if self.backoff.bugs(entry_id) < BUG_ATTEMPTS:
                    return False
                await transitions.fail(self.ctx.sessions, entry_id, op, payload, exc)
                progress = True
            if progress is not None:
                if progress:
                    self.backoff.clear(entry_id)
                return progress
        return False

    async def _advance(
        self, entry: OutboxEntry, op: Op, payload: Payload, *, pipeline: bool = False, nonce: int | None = None
    ) -> bool | Sent | None:
        """True: settled. False: in flight, look again later. None: start over (tx dropped).
        ``Sent``: with the node, in a pipelined round (``_process``).

        A ``ChainRevertError`` escaping from here is a pre-flight refusal, hence final.
        """
        chain = self.ctx.chain
        signed = queue.signed_of(entry)
        fresh = signed is None
        if signed is None:
            if await chain.call(op.applied, chain, payload):
                await self._settle(entry.id, op, payload, await self._locate(op, payload), ours=False)
                return True
            request = await self._build(op, payload)
            if request is None:
                await self._settle(entry.id, op, payload, None)
                return True
            signed = await self._sign(entry.sender, request, nonce)
            await transitions.record(self.ctx.sessions, entry.id, signed)
        try:
            return await self._complete(entry, op, payload, signed, fresh=fresh, pipeline=pipeline)
        except ChainRevertError as exc:
            # Mined and reverted, or refused at broadcast: the state moved since pre-flight.
            return await self._reverted(entry.id, op, payload, exc)

    async def _build(self, op: Op, payload: Payload) -> TxRequest | None:
        """The transaction ``op`` sends, from what the payload names (``Op.load``) and says."""
        if op.load is not None:
            async with self.ctx.sessions() as session:
                payload = await op.load(session, payload)
        chain = self.ctx.chain
        return await chain.call(op.build, chain, payload)

    async def _sign(self, sender: str, request: TxRequest, nonce: int | None = None) -> SignedTx:
        """Pre-flight and sign; a decoded ``ChainRevertError`` means the chain refuses the write."""
        chain = self.ctx.chain
        account = self.ctx.account(sender)
        return await chain.call(
            lambda: transactions.sign(
                chain.engine.w3,
                account,
                to=request.to,
                data=request.data,
                value=request.value,
                nonce=nonce,
                abi=chain.client.abi,
                context=request.context,
            )
        )

    async def _complete(
        self,
        entry: OutboxEntry,
        op: Op,
        payload: Payload,
        signed: SignedTx,
        *,
        fresh: bool,
        pipeline: bool = False,
    ) -> bool | Sent | None:
        chain = self.ctx.chain
        w3, abi = chain.engine.w3, chain.client.abi
        send = fresh
        if not fresh:
            result = await chain.call(transactions.receipt_for, w3, signed.tx_hash, abi)
            if result is not None:
                await self._settle(entry.id, op, payload, result)
                return True
            fate = await chain.call(_fate, w3, signed)
            if fate == "consumed":
                # Mined between the two looks, or truly replaced by another transaction.
                result = await chain.call(transactions.receipt_for, w3, signed.tx_hash, abi)
                if result is not None:
                    await self._settle(entry.id, op, payload, result)
                    return True
                return await self._dropped(
                    entry.id, op, payload, f"nonce {signed.nonce} was used by another transaction"
                )
            if fate == "gap":
                return await self._dropped(
                    entry.id, op, payload, f"the chain is below nonce {signed.nonce} (it lost transactions)"
                )
            send = fate == "unsent"
        if send:
            signed = await self._broadcast(entry, op, payload, signed, fresh=fresh)
        if pipeline:
            return Sent(signed)
        result = await self._wait(signed)
        if result is None:
            log.info("outbox %s: transaction 0x%s not mined yet", entry.id, signed.tx_hash.hex())
            return False
        await self._settle(entry.id, op, payload, result)
        return True

    async def _broadcast(
        self, entry: OutboxEntry, op: Op, payload: Payload, signed: SignedTx, *, fresh: bool
    ) -> SignedTx:
        """Sends the recorded bytes. If the node refuses bytes signed earlier (fees have risen,
        say), signs again with the *same nonce*, records that, and sends it: whichever of the
        two is mined, the other cannot be, so the write still happens at most once."""
        chain = self.ctx.chain
        w3, abi = chain.engine.w3, chain.client.abi
        try:
            await chain.call(transactions.broadcast, w3, signed, abi)
            return signed
        except (ChainRevertError, NodeUnavailable):
            raise
        except ChainError as exc:
            if fresh:
                raise  # just signed with current fees: a refusal is not about age; retry later
            log.warning(
                "outbox %s: the node refused the recorded transaction (%s); signing it again at nonce %s",
                entry.id,
                exc,
                signed.nonce,
            )
        request = await self._build(op, payload)
        if request is None:
            raise ChainError("nothing to send any more, yet the effect is not on chain")
        again = await self._sign(entry.sender, request, nonce=signed.nonce)
        await transitions.record(self.ctx.sessions, entry.id, again)
        await chain.call(transactions.broadcast, w3, again, abi)
        return again

    async def _wait(self, signed: SignedTx) -> TxResult | None:
        """The receipt, polled without holding a thread; None if not mined in time."""
        chain = self.ctx.chain
        deadline = time.monotonic() + self.receipt_timeout
        pause = RECEIPT_POLL
        while True:
            result = await chain.call(transactions.receipt_for, chain.engine.w3, signed.tx_hash, chain.client.abi)
            if result is not None or time.monotonic() >= deadline:
                return result
            await asyncio.sleep(pause)
            # Automining dev chains answer at once; a consortium chain's blocks take seconds.
            pause = min(pause * 1.5, RECEIPT_POLL_MAX)

    async def _locate(self, op: Op, payload: Payload) -> TxResult | None:
        chain = self.ctx.chain
        return await chain.call(op.locate, chain, payload) if op.locate is not None else None

    async def _settle(
        self,
        entry_id: int,
        op: Op,
        payload: Payload,
        result: TxResult | None,
        *,
        ours: bool = True,
    ) -> None:
        await transitions.settle(self.ctx.sessions, entry_id, op, payload, result, ours=ours)

    async def _dropped(self, entry_id: int, op: Op, payload: Payload, why: str) -> bool | None:
        """The recorded transaction can never be mined: done if the effect is there, else re-sign."""
        chain = self.ctx.chain
        if await chain.call(op.applied, chain, payload):
            log.warning("outbox %s: %s, but the effect is on chain", entry_id, why)
            await self._settle(entry_id, op, payload, await self._locate(op, payload), ours=False)
            return True
        log.warning("outbox %s: %s; signing it again", entry_id, why)
        await transitions.unsign(self.ctx.sessions, entry_id, why)
        return None

    async def _reverted(self, entry_id: int, op: Op, payload: Payload, exc: ChainRevertError) -> bool | None:
        chain = self.ctx.chain
        if await chain.call(op.applied, chain, payload):
            await self._settle(entry_id, op, payload, await self._locate(op, payload), ours=False)
            return True
        if await transitions.count_revert(self.ctx.sessions, entry_id, exc):
            raise exc  # _process records the refusal
        return None  # pre-flight again: it decides whether the write can still succeed


def _fate(w3: Web3, signed: SignedTx) -> str:
    """Where a recorded transaction with no receipt stands.

    ``pooled``: the node holds it. ``consumed``: its nonce was mined by another transaction.
    ``gap``: the chain's next nonce is below it and nothing fills the gap (the node lost
    earlier transactions), so it would never be mined. ``unsent``: it can be broadcast as is.
    """
    if transactions.known(w3, signed.tx_hash):
        return "pooled"
    sender = Web3.to_checksum_address(signed.sender)
    if int(w3.eth.get_transaction_count(sender, "latest")) > signed.nonce:
        return "consumed"
    if transactions.next_nonce(w3, sender) < signed.nonce:
        return "gap"
    return "unsent"
