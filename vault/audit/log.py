"""The access log (留痕): every event is queued inside the transaction of the access it records,
then sequenced into an RFC 9162 Merkle tree whose signed heads are anchored on chain.

Fail closed: ``record`` runs inside the access's transaction, so an access whose entry cannot
be written rolls back and is refused. Sequencing is separate and single (it runs in the
submitter's rounds, under its leadership on PostgreSQL), so positions are contiguous and
appends never contend with each other inside requests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import delete, func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keys import MasterKey, SigningKey, Sm2Key, Suite
from vault import outbox
from vault.audit.macs import EntryMacs
from vault.audit.proofs import (
    compact_range,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    root_at,
)
from vault.audit.tree import EMPTY_ROOT, CompactRange, NodeId, leaf_hash, perfect_subtrees
from vault.context import OPERATOR
from vault.db.audit import AuditEntry, AuditHead, AuditNode, AuditQueued
from vault.errors import AuditUnavailable
from vault.events import VaultEvent

ENTRY_VERSION = 1
BATCH = 5_000  # queued events sequenced per transaction
SEQUENCER_LOCK = 0x61756474  # "audt"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_document(event: VaultEvent) -> dict[str, Any]:
    """The entry as hashed into the tree: the event's fields, nothing more (no personal data)."""
    # What ``dataclasses.asdict`` gave, without its deep copy of every value (the fields are
    # strings, numbers and tuples of strings): a few percent of a department's read.
    doc: dict[str, Any] = {"v": ENTRY_VERSION}
    for name in _EVENT_FIELDS:
        value = getattr(event, name)
        doc[name] = list(value) if isinstance(value, tuple) else value
    return doc


_EVENT_FIELDS = tuple(f.name for f in fields(VaultEvent))


async def record(session: AsyncSession, event: VaultEvent) -> None:
    """The events sink: queue the entry inside the access's own transaction."""
    try:
        await session.execute(
            _QUEUE_INSERT, {"entry": canonical(event_document(event)).decode(), "created_at": event.at}
        )
    except Exception as exc:
        raise AuditUnavailable() from exc


# Built once: a statement with bound parameters skips the per-call construction and cache
# lookup of ``insert(...).values(...)`` on the hottest write path of the vault. Over the
# table, not the mapped class: the ORM's bulk-insert path around the same INSERT was about a
# twentieth of a department's read.
_QUEUE_INSERT = insert(AuditQueued.metadata.tables[AuditQueued.__tablename__])


def mac_key(master: MasterKey, suite: Suite = Suite.INTL) -> EntryMacs:
    """The entry MAC keys, writing in ``suite`` and checking both (``vault.audit.macs``)."""
    return EntryMacs(master, suite)


def entry_mac(key: EntryMacs, leaf: bytes) -> bytes:
    return key.mac(leaf)


def head_text(tree_size: int, root: bytes, signed_at: int) -> str:
    """What the log key signs (EIP-191): a tree head anyone can check with the published key."""
    return f"datavault audit tree head\nsize: {tree_size}\nroot: {encode_hex(root)}\ntime: {signed_at}"


class PrefetchedNodes:
    """A ``NodeStore`` over nodes read from the database in one batch beforehand."""

    def __init__(self, nodes: dict[NodeId, bytes]) -> None:
        self._nodes = nodes

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        try:
            return [self._nodes[i] for i in ids]
        except KeyError as exc:
            raise LookupError(f"audit tree node {exc.args[0]} is not stored") from None


async def fetch_nodes(session: AsyncSession, ids: list[NodeId]) -> PrefetchedNodes:
    leaves = sorted({index for level, index in ids if level == 0})
    upper = sorted({(level, index) for level, index in ids if level > 0})
    nodes: dict[NodeId, bytes] = {}
    for start in range(0, len(leaves), 500):
        chunk = leaves[start : start + 500]
        for seq, value in await session.execute(
            select(AuditEntry.seq, AuditEntry.leaf_hash).where(AuditEntry.seq.in_(chunk))
        ):
            nodes[(0, int(seq))] = bytes(value)
    for start in range(0, len(upper), 500):
        pairs = upper[start : start + 500]
        query = select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(
            tuple_(AuditNode.level, AuditNode.idx).in_(pairs)
        )
        for level, idx, value in await session.execute(query):
            nodes[(int(level), int(idx))] = bytes(value)
    return PrefetchedNodes(nodes)


async def tree_size(session: AsyncSession) -> int:
    top = await session.scalar(select(func.max(AuditEntry.seq)))
    return 0 if top is None else int(top) + 1


async def frontier(session: AsyncSession, size: int) -> CompactRange:
    ids = perfect_subtrees(0, size)
    return compact_range(await fetch_nodes(session, ids), size)


class Sequencer:
    """Moves queued events into the tree; signs a head every ``head_every`` entries or
    ``head_interval`` seconds (whichever comes first) and queues its anchoring."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        master: MasterKey,
        log_key: SigningKey,
        *,
        head_every: int = 1_000,
        head_interval: int = 30,
        suite: Suite = Suite.INTL,
        sm2_key: Sm2Key | None = None,
    ) -> None:
        self.sessions = sessions
        self.key = mac_key(master, suite)
        self.log_key = log_key
        # The sm suite signs each head with SM2 too, beside the secp256k1 signature the chain checks.
        self.sm2_key = sm2_key
        self.head_every = head_every
        self.head_interval = head_interval

    async def run_once(self, now: int) -> int:
        """Sequences what is queued (in batches); returns how many entries were appended."""
        total = 0
        while True:
            async with self.sessions.begin() as session:
                appended = await self._sequence(session, now)
                await self._maybe_head(session, now)
            total += appended
            if appended < BATCH:
                return total

    async def _sequence(self, session: AsyncSession, now: int) -> int:
        if session.get_bind().dialect.name == "postgresql":
            # One sequencer at a time even if two workers both think they lead.
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
        queued = list(
            await session.execute(select(AuditQueued.id, AuditQueued.entry).order_by(AuditQueued.id).limit(BATCH))
        )
        if not queued:
            return 0
        size = await tree_size(session)
        tree = await frontier(session, size)
        entries: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for offset, (_qid, queued_entry) in enumerate(queued):
            seq = size + offset
            document = json.loads(queued_entry)
            document["seq"] = seq
            body = canonical(document)
            leaf = leaf_hash(body)
            for level, value in enumerate(tree.append(leaf)[1:], start=1):
                nodes.append({"level": level, "idx": seq >> level, "hash": value})
            entries.append(
                {
                    "seq": seq,
                    "entry": body.decode(),
                    "leaf_hash": leaf,
                    "mac": entry_mac(self.key, leaf),
                    "at": document["at"],
                    "action": document["action"],
                    "outcome": document["outcome"],
                    "actor_role": document["actor_role"],
                    "actor": document["actor"],
                    "official": document.get("official"),
                    "subject_id": document.get("subject_id"),
                    "grant_id": document.get("grant_id"),
                    "request_id": document.get("request_id"),
                }
            )
        # Core inserts into the tables (one executemany each): the ORM's bulk path adds only
        # per-row bookkeeping here, a quarter of the sequencer's time on SQLite.
        tables = AuditEntry.metadata.tables
        await session.execute(insert(tables[AuditEntry.__tablename__]), entries)
        if nodes:
            await session.execute(insert(tables[AuditNode.__tablename__]), nodes)
        await session.execute(delete(AuditQueued).where(AuditQueued.id.in_([qid for qid, _ in queued])))
        return len(queued)

    async def _maybe_head(self, session: AsyncSession, now: int) -> AuditHead | None:
        size = await tree_size(session)
        last = await session.scalar(select(AuditHead).order_by(AuditHead.tree_size.desc()).limit(1))
        if last is not None:
            last_size, last_at = last.tree_size, last.signed_at
        else:  # the clock of the first head starts with the first entry
            last_size, last_at = 0, int(await session.scalar(select(func.min(AuditEntry.at))) or now)
        if size == last_size or (size - last_size < self.head_every and now - last_at < self.head_interval):
            return None
        return await self._sign(session, size, now)

    async def sign_head(self, now: int) -> AuditHead | None:
        """A head for the current tree now, whatever the schedule (None if nothing new)."""
        async with self.sessions.begin() as session:
            size = await tree_size(session)
            last = await session.scalar(select(func.max(AuditHead.tree_size)))
            if size == 0 or size == (last or 0):
                return None
            return await self._sign(session, size, now)

    async def _sign(self, session: AsyncSession, size: int, now: int) -> AuditHead:
        root = (await frontier(session, size)).root() if size else EMPTY_ROOT
        text_ = head_text(size, root, now)
        head = AuditHead(
            tree_size=size,
            root=root,
            signed_at=now,
            signature=self.log_key.sign_message(text_),
            sm2_signature=self.sm2_key.sign(text_.encode()).hex() if self.sm2_key is not None else None,
            status="pending",
        )
        session.add(head)
        outbox.enqueue(session, "anchor_head", OPERATOR, {"tree_size": size, "root": encode_hex(root)}, now)
        return head


async def inclusion(session: AsyncSession, seq: int, size: int) -> list[bytes]:
    """The audit path of entry ``seq`` in the tree of the first ``size`` entries."""
    ranges = inclusion_ranges(seq, size)
    store = await fetch_nodes(session, [node for r in ranges for node in perfect_subtrees(*r)])
    return inclusion_proof(store, seq, size)


async def consistency(session: AsyncSession, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` entries is a prefix of the tree of ``size2``."""
    ranges = consistency_ranges(size1, size2)
    store = await fetch_nodes(session, [node for r in ranges for node in perfect_subtrees(*r)])
    return consistency_proof(store, size1, size2)


async def root_of(session: AsyncSession, size: int) -> bytes:
    """The root of the tree of the first ``size`` entries, from stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    store = await fetch_nodes(session, perfect_subtrees(0, size))
    return root_at(store, size)
