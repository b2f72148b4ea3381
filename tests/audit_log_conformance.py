"""The access log end to end, for any chain engine and database: accesses are queued in their
own transaction, sequenced contiguously into the RFC 9162 tree, signed heads are anchored on
chain, and proofs from the stored tree verify against the anchored roots.

Test modules provide a ``harness`` fixture (tests/support/harness.py)."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from keys import recover_message
from tests.grant_conformance import granted, read, setup
from tests.support.harness import Harness
from vault import clock
from vault.audit import log as audit_log
from vault.audit.tree import CompactRange, leaf_hash, verify_consistency, verify_inclusion
from vault.db.audit import AuditEntry, AuditHead, AuditQueued


async def entries(h: Harness) -> list[AuditEntry]:
    async with h.vault.ctx.sessions() as s:
        return list(await s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def test_accesses_become_contiguous_entries_of_one_tree(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen)
    await read(h, reader, grant["id"])
    await h.settle()
    rows = await entries(h)
    assert [r.seq for r in rows] == list(range(len(rows)))
    actions = [r.action for r in rows]
    assert {"department.registered", "subject.registered", "record.issued", "grant.created", "grant.used"} <= set(
        actions
    )
    tree = CompactRange()
    for r in rows:
        document = json.loads(r.entry)
        assert document["seq"] == r.seq and r.leaf_hash == leaf_hash(r.entry.encode())
        tree.append(r.leaf_hash)
    async with h.vault.ctx.sessions() as s:
        assert await audit_log.root_of(s, len(rows)) == tree.root()
        assert int(await s.scalar(select(func.count()).select_from(AuditQueued)) or 0) == 0
    used = next(r for r in rows if r.action == "grant.used")
    assert used.grant_id == grant["id"] and used.official == reader.key.address and used.actor == "renshe"
    assert "张三" not in "".join(r.entry for r in rows)


async def test_signed_heads_are_anchored_and_proofs_verify_against_them(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    await h.settle()
    first = await h.vault.sequencer.sign_head(clock.now())
    assert first is not None
    await h.settle()
    grant = await granted(h, citizen)
    await read(h, reader, grant["id"])
    await h.settle()
    second = await h.vault.sequencer.sign_head(clock.now())
    assert second is not None and second.tree_size > first.tree_size
    await h.settle()
    audit = h.vault.ctx.chain.audit
    assert audit is not None
    anchored = [(a.tree_size, a.root) for a in audit.heads()]
    assert anchored[1:] == [(first.tree_size, first.root), (second.tree_size, second.root)]
    async with h.vault.ctx.sessions() as s:
        heads = list(await s.scalars(select(AuditHead).order_by(AuditHead.tree_size)))
        assert [hd.status for hd in heads] == ["anchored", "anchored"] and all(hd.tx_hash for hd in heads)
        log_key = h.vault.sequencer.log_key.address
        for hd in heads:
            text = audit_log.head_text(hd.tree_size, hd.root, hd.signed_at)
            assert recover_message(text, hd.signature) == log_key
        proof = await audit_log.consistency(s, first.tree_size, second.tree_size)
        assert verify_consistency(first.tree_size, second.tree_size, first.root, second.root, proof)
        rows = await entries(h)
        for r in rows[: second.tree_size]:
            path = await audit_log.inclusion(s, r.seq, second.tree_size)
            assert verify_inclusion(r.seq, second.tree_size, r.leaf_hash, path, second.root)


async def test_concurrent_accesses_give_exactly_one_entry_each(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, max_uses=50)
    await h.settle()
    before = len(await entries(h))
    results = await asyncio.gather(*(read(h, reader, grant["id"]) for _ in range(20)))
    assert all(r.status_code == 200 for r in results)
    await h.settle()
    rows = await entries(h)
    assert [r.seq for r in rows] == list(range(len(rows)))
    used = [r for r in rows[before:] if r.action == "grant.used"]
    assert len(used) == 20 and len({r.request_id for r in used}) == 20
