"""The single submitter: batches pending credentials and drains the outbox in order.

It is the only code that sends transactions, so it owns every nonce. It runs in the API
process (``datavault up``); on PostgreSQL, where several workers may run, an advisory lock
elects one of them.

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

An unreachable or misbehaving node is never a reason to fail an entry: it stays where it is
and is retried with a growing delay. Entries are carried out in id order, one at a time, and
a round stops at the first one that is not settled: a later write may depend on an earlier
one (fund -> add_department -> issue).
"""

from __future__ import annotations

import asyncio
import logging
import time

from hexbytes import HexBytes
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3Exception

from chain import transactions
from chain.errors import ChainError, ChainRevertError
from chain.transactions import SignedTx, TxResult
from keys.errors import KeysError
from vault import clock, outbox
from vault.anchoring import batch_pending
from vault.chain_ops import OPS, Op, Payload, TxRequest
from vault.context import ChainContext, VaultContext
from vault.db.models import AnchorBatch, Department, OutboxEntry

log = logging.getLogger(__name__)
LEADER_LOCK = 0x64617461  # "data": one submitter per PostgreSQL database
# A transaction that was mined but reverted is signed again (state may have moved between
# pre-flight and inclusion); after this many tries the revert is taken as final.
MAX_ATTEMPTS = 20
# Errors that say nothing about whether the write can succeed: the node is down, slow or
# confused, a key file is unreadable. The entry waits and is retried.
TRANSIENT = (ChainError, Web3Exception, OSError, ValueError, TimeoutError, KeysError)
RECEIPT_POLL, RECEIPT_POLL_MAX = 0.05, 1.0
# At most this many passes over one entry per round: a dropped transaction is re-signed at once.
PASSES = 3


class _Settled(Exception):
    """Internal: the entry reached a final state while being resolved."""


class Submitter:
    def __init__(
        self, ctx: VaultContext, *, interval: float = 0.5, batch_max: int = 10_000,
        receipt_timeout: float = 30.0, max_backoff: float = 60.0,
    ) -> None:
        self.ctx = ctx
        self.interval = interval
        self.batch_max = batch_max
        # How long one round waits for a broadcast transaction to be mined; a later round (or
        # a restart) picks the entry up again where it is.
        self.receipt_timeout = receipt_timeout
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._leader: AsyncConnection | None = None
        self._not_before: dict[int, float] = {}
        ctx.nudge = self.nudge

    def nudge(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Batch what is pending, then carry out queued writes in order. Returns entries settled."""
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

    # -- one entry ----------------------------------------------------------------------------

    async def _process(self, entry_id: int) -> bool:
        """Advances one entry; True once it is done or failed, False if it must wait."""
        if time.monotonic() < self._not_before.get(entry_id, 0.0):
            return False
        for _ in range(PASSES):
            entry = await self._load(entry_id)
            if entry is None or entry.status not in outbox.ACTIVE:
                self._not_before.pop(entry_id, None)
                return True
            op = OPS[entry.kind]
            payload = outbox.payload_of(entry)
            try:
                progress = await self._advance(entry, op, payload)
            except _Settled:
                progress = True
            except ChainRevertError as exc:
                await self._refuse(entry_id, op, payload, exc)
                progress = True
            except TRANSIENT as exc:
                await self._retry_later(entry_id, exc)
                return False
            if progress is not None:
                if progress:
                    self._not_before.pop(entry_id, None)
                return progress
        return False

    async def _advance(self, entry: OutboxEntry, op: Op, payload: Payload) -> bool | None:
        """True: settled. False: in flight, look again later. None: start over (tx dropped).

        A ``ChainRevertError`` escaping from here is a pre-flight refusal, hence final.
        """
        chain = self.ctx.chain
        signed = outbox.signed_of(entry)
        fresh = signed is None
        if signed is None:
            if await chain.call(op.applied, chain, payload):
                await self._settle(entry.id, op, payload, await self._locate(op, payload), ours=False)
                return True
            request = await chain.call(op.build, chain, payload)
            if request is None:
                await self._settle(entry.id, op, payload, None)
                return True
            signed = await self._sign(entry.sender, request)
            await self._record(entry.id, signed)
        try:
            return await self._complete(entry, op, payload, signed, fresh=fresh)
        except ChainRevertError as exc:
            # Mined and reverted, or refused at broadcast: the state moved since pre-flight.
            return await self._reverted(entry.id, op, payload, exc)

    async def _sign(self, sender: str, request: TxRequest, nonce: int | None = None) -> SignedTx:
        """Pre-flight and sign; a decoded ``ChainRevertError`` means the chain refuses the write."""
        chain = self.ctx.chain
        account = self.ctx.account(sender)
        return await chain.call(
            lambda: transactions.sign(
                chain.engine.w3, account, to=request.to, data=request.data, value=request.value,
                nonce=nonce, abi=chain.client.abi, context=request.context,
            )
        )

    async def _complete(
        self, entry: OutboxEntry, op: Op, payload: Payload, signed: SignedTx, *, fresh: bool,
    ) -> bool | None:
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
                return await self._dropped(entry.id, op, payload, f"nonce {signed.nonce} was used by another transaction")
            if fate == "gap":
                return await self._dropped(entry.id, op, payload, f"the chain is below nonce {signed.nonce} (it lost transactions)")
            send = fate == "unsent"
        if send:
            signed = await self._broadcast(entry, op, payload, signed, fresh=fresh)
        result = await self._wait(signed)
        if result is None:
            log.info("outbox %s: transaction 0x%s not mined yet", entry.id, signed.tx_hash.hex())
            return False
        await self._settle(entry.id, op, payload, result)
        return True

    async def _broadcast(self, entry: OutboxEntry, op: Op, payload: Payload, signed: SignedTx, *, fresh: bool) -> SignedTx:
        """Sends the recorded bytes. If the node refuses bytes signed earlier (fees have risen,
        say), signs again with the *same nonce*, records that, and sends it: whichever of the
        two is mined, the other cannot be, so the write still happens at most once."""
        chain = self.ctx.chain
        w3, abi = chain.engine.w3, chain.client.abi
        try:
            await chain.call(transactions.broadcast, w3, signed, abi)
            return signed
        except (ChainRevertError, OSError):
            raise
        except (Web3Exception, ChainError) as exc:
            if fresh:
                raise  # just signed with current fees: a refusal is not about age; retry later
            log.warning("outbox %s: the node refused the recorded transaction (%s); signing it again at nonce %s", entry.id, exc, signed.nonce)
        request = await chain.call(op.build, chain, payload)
        if request is None:
            raise ChainError("nothing to send any more, yet the effect is not on chain")
        again = await self._sign(entry.sender, request, nonce=signed.nonce)
        await self._record(entry.id, again)
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

    async def _dropped(self, entry_id: int, op: Op, payload: Payload, why: str) -> bool | None:
        """The recorded transaction can never be mined: done if the effect is there, else re-sign."""
        chain = self.ctx.chain
        if await chain.call(op.applied, chain, payload):
            log.warning("outbox %s: %s, but the effect is on chain", entry_id, why)
            await self._settle(entry_id, op, payload, await self._locate(op, payload), ours=False)
            return True
        log.warning("outbox %s: %s; signing it again", entry_id, why)
        async with self.ctx.sessions.begin() as session:
            entry = await self._get(session, entry_id)
            outbox.forget_signed(entry, clock.now())
            entry.last_error = why[:1000]
        return None

    async def _reverted(self, entry_id: int, op: Op, payload: Payload, exc: ChainRevertError) -> bool | None:
        chain = self.ctx.chain
        if await chain.call(op.applied, chain, payload):
            await self._settle(entry_id, op, payload, await self._locate(op, payload), ours=False)
            return True
        async with self.ctx.sessions.begin() as session:
            entry = await self._get(session, entry_id)
            entry.attempts += 1
            final = entry.attempts >= MAX_ATTEMPTS
            if not final:
                log.warning("outbox %s %s reverted after pre-flight (attempt %s): %s", entry_id, entry.kind, entry.attempts, exc)
                outbox.forget_signed(entry, clock.now())
                entry.last_error = f"reverted: {exc}"[:1000]
        if final:
            raise exc  # _process records the refusal
        return None  # pre-flight again: it decides whether the write can still succeed

    # -- database steps -------------------------------------------------------------------------

    async def _load(self, entry_id: int) -> OutboxEntry | None:
        async with self.ctx.sessions() as session:
            return await session.get(OutboxEntry, entry_id)

    @staticmethod
    async def _get(session: AsyncSession, entry_id: int) -> OutboxEntry:
        entry = await session.get(OutboxEntry, entry_id)
        if entry is None or entry.status not in outbox.ACTIVE:
            raise _Settled()
        return entry

    async def _record(self, entry_id: int, signed: SignedTx) -> None:
        async with self.ctx.sessions.begin() as session:
            entry = await self._get(session, entry_id)
            outbox.record_signed(entry, signed, clock.now())

    async def _settle(
        self, entry_id: int, op: Op, payload: Payload, result: TxResult | None, *, ours: bool = True,
    ) -> None:
        """Done, with its effect, in one database transaction. ``ours=False``: the effect came
        from a transaction other than the one recorded (or none was), found by ``locate``."""
        async with self.ctx.sessions.begin() as session:
            entry = await self._get(session, entry_id)
            now = clock.now()
            if not ours:
                outbox.forget_signed(entry, now)
            if result is not None:
                entry.tx_hash = "0x" + result.tx_hash.hex()
                entry.block_number = result.block_number
            entry.raw_tx = None  # on chain now, or never needed
            entry.status = "done"
            entry.updated_at = now
            if op.done is not None:
                await op.done(session, payload, result)

    async def _refuse(self, entry_id: int, op: Op, payload: Payload, exc: ChainRevertError) -> None:
        log.warning("outbox %s refused by the chain: %s", entry_id, exc)
        async with self.ctx.sessions.begin() as session:
            try:
                entry = await self._get(session, entry_id)
            except _Settled:
                return
            entry.status, entry.last_error = "failed", str(exc)[:1000]
            entry.raw_tx = None
            entry.updated_at = clock.now()
            if op.failed is not None:
                await op.failed(session, payload, exc.error_name)
        self._not_before.pop(entry_id, None)

    async def _retry_later(self, entry_id: int, exc: BaseException) -> None:
        async with self.ctx.sessions.begin() as session:
            entry = await session.get(OutboxEntry, entry_id)
            if entry is None:
                return
            entry.attempts += 1
            entry.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            entry.updated_at = clock.now()
            attempts = entry.attempts
        delay = min(self.max_backoff, self.interval * 2 ** min(attempts, 16))
        self._not_before[entry_id] = time.monotonic() + delay
        level = logging.WARNING if attempts < 10 else logging.ERROR
        log.log(level, "outbox %s: %s (attempt %s; again in %.1fs)", entry_id, exc, attempts, delay)

    # -- after a restart ----------------------------------------------------------------------

    async def reconcile(self) -> int:
        """After a restart, carry out again the writes the chain lost. Returns how many.

        A node killed before it saved its state comes back without its last blocks: entries
        recorded in blocks above the chain's head go back to ``pending`` in place, so they keep
        their order (a lost department registration still precedes its anchors). Anchors the
        chain does not hold for any other reason (no transaction on record, another chain
        history) are caught by asking for each root. Nothing is anchored twice: ``applied``
        and the contract both refuse a root that is already there.
        """
        chain = self.ctx.chain
        head = await chain.call(lambda: int(chain.engine.w3.eth.block_number))
        now = clock.now()
        requeued = 0
        async with self.ctx.sessions.begin() as session:
            lost = list(await session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.status == "done", OutboxEntry.block_number > head)
                .order_by(OutboxEntry.id)
            ))
            for entry in lost:
                if entry.tx_hash is not None and await chain.call(_still_mined, chain, entry.tx_hash):
                    continue  # settled by a running submitter after we read the head
                await self._requeue(session, entry, f"the chain lost block {entry.block_number} (head is {head})", now)
                requeued += 1
            batches = list(await session.scalars(select(AnchorBatch).where(AnchorBatch.status == "anchored")))
            for batch in batches:
                status = await chain.call(chain.client.root_status, bytes.fromhex(batch.root[2:]))
                if status.anchored:
                    continue
                issue = await _issue_entry(session, batch.root)
                reason = f"the chain does not hold root {batch.root}"
                if issue is not None:
                    await self._requeue(session, issue, reason, now)
                else:
                    payload = {"root": batch.root, "valid_from": batch.valid_from, "valid_until": batch.valid_until}
                    lost_op = OPS["issue"].lost
                    assert lost_op is not None
                    await lost_op(session, payload)
                    issuer = await session.get(Department, batch.issuer_code)
                    assert issuer is not None
                    outbox.enqueue(session, "issue", issuer.chain_key_name, payload, now).last_error = reason
                requeued += 1
        if requeued:
            log.warning("reconcile: %s chain writes were lost by the node and are queued again", requeued)
        return requeued

    @staticmethod
    async def _requeue(session: AsyncSession, entry: OutboxEntry, reason: str, now: int) -> None:
        op = OPS[entry.kind]
        outbox.forget_signed(entry, now)
        entry.last_error = reason[:1000]
        if op.lost is not None:
            await op.lost(session, outbox.payload_of(entry))

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


def _fate(w3: Web3, signed: SignedTx) -> str:
    """Where a recorded transaction with no receipt stands.

    ``pooled``: the node holds it. ``consumed``: its nonce was mined by another transaction.
    ``gap``: the chain's next nonce is below it and nothing fills the gap (the node lost
    earlier transactions), so it would never be mined. ``unsent``: it can be broadcast as is.
    """
    try:
        w3.eth.get_transaction(HexBytes(signed.tx_hash))
        return "pooled"
    except TransactionNotFound:
        pass
    sender = Web3.to_checksum_address(signed.sender)
    if int(w3.eth.get_transaction_count(sender, "latest")) > signed.nonce:
        return "consumed"
    if transactions.next_nonce(w3, sender) < signed.nonce:
        return "gap"
    return "unsent"


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
