"""Verifying the access log against its signed heads and the chain: a clean log verifies, and
each kind of tampering done directly in the database is found, naming the entries concerned.

The log is made of real accesses through the API (registrations, issues, a grant, reads by
the grantee, the citizen reading their file), with three tree heads signed and anchored on
chain (the in-process chain here; tests/integration/vault/test_audit_backends.py runs these
tests on anvil with SQLite and PostgreSQL). Verification streams the log in chunks of 4 entries here, so chunk
boundaries fall inside every tampered range.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from keys import SigningKey
from tests.grant_conformance import granted, read, setup
from tests.support.harness import Harness, open_harness
from vault import clock
from vault.audit import log as audit_log
from vault.audit import scan as audit_scan
from vault.audit.tree import CompactRange, leaf_hash
from vault.audit.verify import AuditReport, verify_log
from vault.db.audit import AuditEntry, AuditHead, AuditNode

ENTRY_KINDS = {"modified", "deleted", "inserted", "reordered"}


@dataclass
class Log:
    h: Harness
    anchored: list[int]  # sizes of the anchored heads, oldest first
    size: int  # entries in the log (all covered by the last head)


async def sign_and_anchor(h: Harness) -> int:
    head = await h.vault.sequencer.sign_head(clock.now())
    assert head is not None
    await h.settle()
    return head.tree_size


async def build_log(h: Harness) -> Log:
    _, reader, citizen, _ = await setup(h)
    await h.settle()
    first = await sign_and_anchor(h)
    grant = await granted(h, citizen, max_uses=10)
    for _ in range(2):
        assert (await read(h, reader, grant["id"])).status_code == 200
    await h.settle()
    second = await sign_and_anchor(h)
    assert (await h.http.get("/me/records", headers=citizen.headers)).status_code == 200
    for _ in range(2):
        assert (await read(h, reader, grant["id"])).status_code == 200
    await h.settle()
    third = await sign_and_anchor(h)
    assert first < second < third
    async with h.vault.ctx.sessions() as s:
        assert await audit_log.tree_size(s) == third
    return Log(h, [first, second, third], third)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


@pytest.fixture
async def log(harness: Harness) -> Log:
    return await build_log(harness)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_scan, "CHUNK", 4)


async def verify(h: Harness, *, with_chain: bool = True) -> AuditReport:
    return await verify_log(
        h.vault.ctx,
        log_key_address=h.vault.sequencer.log_key.address,
        anchor=h.vault.ctx.chain.audit if with_chain else None,
    )


def entry_findings(report: AuditReport) -> set[tuple[str, int | None]]:
    return {(f.kind, f.seq) for f in report.findings if f.kind in ENTRY_KINDS}


def kinds(report: AuditReport) -> list[str]:
    return sorted(f.kind for f in report.findings)


def one(report: AuditReport, kind: str) -> str:
    (detail,) = [f.detail for f in report.findings if f.kind == kind]
    return detail


# -- direct database tampering ---------------------------------------------------------------

COLUMNS = ("entry", "leaf_hash", "mac", *audit_scan.INDEXED)


async def row(h: Harness, seq: int) -> dict[str, Any]:
    async with h.vault.ctx.sessions() as s:
        found = await s.get(AuditEntry, seq)
        assert found is not None
        return {c: getattr(found, c) for c in ("seq", *COLUMNS)}


async def set_row(h: Harness, seq: int, **values: Any) -> None:
    async with h.vault.ctx.sessions.begin() as s:
        result = await s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**values))
        assert result.rowcount == 1  # type: ignore[attr-defined]


async def flip_a_byte(log: Log) -> int:
    body = bytearray((await row(log.h, 6))["entry"].encode())
    at = body.index(b'"outcome":"ok"') + len(b'"outcome":"')
    body[at] ^= 0x20  # "ok" -> "Ok"
    await set_row(log.h, 6, entry=body.decode())
    return 6


async def change_a_field(log: Log) -> int:
    # A careful forger: canonical JSON, a matching leaf hash and indexed column; only the MAC
    # (whose key never enters the database) cannot be made to fit.
    document = json.loads((await row(log.h, 3))["entry"])
    document["outcome"] = "refused"
    body = audit_log.canonical(document)
    await set_row(log.h, 3, entry=body.decode(), leaf_hash=leaf_hash(body), outcome="refused")
    return 3


async def delete_a_row(log: Log) -> int:
    async with log.h.vault.ctx.sessions.begin() as s:
        await s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    return 4


async def forged(log: Log, seq: int, claim: int) -> dict[str, Any]:
    original = await row(log.h, claim)
    document = json.loads(original["entry"])
    document["actor"] = "gongan"
    body = audit_log.canonical(document)
    return {
        **original,
        "seq": seq,
        "entry": body.decode(),
        "leaf_hash": leaf_hash(body),
        "mac": os.urandom(32),
        "actor": "gongan",
    }


async def insert_a_forged_row(log: Log) -> int:
    # Made room for at position 6 by moving every later row up one, as a forger must.
    fake = await forged(log, 6, 6)
    async with log.h.vault.ctx.sessions.begin() as s:
        for seq in range(log.size - 1, 5, -1):
            await s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        await s.execute(insert(AuditEntry).values(**fake))
    return 6


async def append_a_forged_row(log: Log) -> int:
    fake = await forged(log, log.size, 2)
    async with log.h.vault.ctx.sessions.begin() as s:
        await s.execute(insert(AuditEntry).values(**fake))
    return log.size


async def replay_an_entry(log: Log) -> int:
    copy = {**await row(log.h, 6), "seq": log.size}
    async with log.h.vault.ctx.sessions.begin() as s:
        await s.execute(insert(AuditEntry).values(**copy))
    return log.size


async def swap_two_rows(log: Log) -> int:
    a, b = await row(log.h, 2), await row(log.h, 9)
    await set_row(log.h, 2, **{c: b[c] for c in COLUMNS})
    await set_row(log.h, 9, **{c: a[c] for c in COLUMNS})
    return 2


async def truncate_the_tail(log: Log) -> int:
    async with log.h.vault.ctx.sessions.begin() as s:
        await s.execute(delete(AuditEntry).where(AuditEntry.seq >= log.size - 3))
    return log.size - 3


async def change_an_indexed_column(log: Log) -> int:
    # Hides renshe's read from a search by actor; the entry itself is untouched.
    await set_row(log.h, 7, actor="gongan")
    return 7


@dataclass(frozen=True)
class Tamper:
    do: Callable[[Log], Awaitable[int]]  # returns the first position it touched
    expected: Callable[[Log], set[tuple[str, int | None]]]
    moves_tree: bool = True  # whether the tree over the stored rows changes under the heads
    detail: str = ""  # a phrase the first entry finding must contain


TAMPERS = {
    "flip a byte": Tamper(flip_a_byte, lambda _: {("modified", 6)}, detail="MAC does not verify"),
    "change a field": Tamper(change_a_field, lambda _: {("modified", 3)}),
    "change an indexed column": Tamper(
        change_an_indexed_column, lambda _: {("modified", 7)}, moves_tree=False, detail="'actor'"
    ),
    "delete a row": Tamper(delete_a_row, lambda _: {("deleted", 4)}, detail="entry 4 is missing"),
    "insert a forged row": Tamper(
        insert_a_forged_row,
        lambda log: {("inserted", 6)} | {("reordered", seq) for seq in range(6, log.size)},
        detail="forged row claiming to be entry 6",
    ),
    "append a forged row": Tamper(
        append_a_forged_row, lambda log: {("inserted", log.size)}, moves_tree=False, detail="claiming to be entry 2"
    ),
    "replay an entry": Tamper(
        replay_an_entry, lambda log: {("inserted", log.size)}, moves_tree=False, detail="copy of entry 6"
    ),
    "swap two rows": Tamper(
        swap_two_rows,
        lambda _: {("reordered", 2), ("reordered", 9)},
        detail="entry 2 is authentic but stored at position 9",
    ),
    "truncate the tail": Tamper(
        truncate_the_tail, lambda log: {("deleted", log.size - 3)}, detail="entries 8 to 10 (3 entries) are missing"
    ),
}


# -- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [audit_scan.CHUNK, 3])
async def test_a_clean_log_verifies(log: Log, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_scan, "CHUNK", chunk)
    report = await verify(log.h)
    assert report.ok and report.findings == []
    assert (report.tree_size, report.entries_checked) == (log.size, log.size) == (11, 11)
    assert (report.heads_checked, report.anchors_checked) == (3, 3)
    assert report.to_dict() == {
        "ok": True,
        "tree_size": 11,
        "entries_checked": 11,
        "heads_checked": 3,
        "anchors_checked": 3,
        "findings": [],
        "status": "verified",
        "anchored_size": 11,
        "summary": "the log is complete and untampered up to the head anchored on chain at size 11",
    }


async def test_a_log_with_no_anchored_head_is_not_called_untampered(harness: Harness) -> None:
    """Nothing on chain, nothing proven: no findings, but not ok, and it says why."""
    h = harness
    await setup(h)
    await h.settle()
    report = await verify(h)
    assert report.findings == [] and not report.ok and report.status == "nothing_anchored"
    assert report.entries_checked == report.tree_size > 0 and report.anchors_checked == report.anchored_size == 0
    assert report.summary.startswith("nothing anchored yet") and "untampered" in report.summary
    first = await sign_and_anchor(h)
    assert (await h.http.get("/me", headers=(await new_citizen(h)).headers)).status_code == 200
    await h.settle()
    later = await verify(h)
    assert later.ok and later.status == "verified" and later.anchored_size == first < later.tree_size
    assert later.summary.endswith(f"at size {first}; {later.tree_size - first} newer entries are not anchored yet")


@pytest.mark.parametrize("name", list(TAMPERS))
async def test_tampering_is_found_at_the_entries_concerned(log: Log, small_chunks: None, name: str) -> None:
    tamper = TAMPERS[name]
    first = await tamper.do(log)
    report = await verify(log.h)
    assert not report.ok
    assert entry_findings(report) == tamper.expected(log)
    if tamper.detail:
        assert tamper.detail in next(f.detail for f in report.findings if f.kind in ENTRY_KINDS)
    if tamper.moves_tree:
        # The first anchored head covering the tampered position no longer matches the entries.
        covering = min(size for size in log.anchored if size > first)
        assert f"anchored on chain at size {covering} " in one(report, "anchor_mismatch")
        assert f"signed tree head of size {covering} " in one(report, "head_mismatch")
    else:
        assert kinds(report) == sorted(k for k, _ in tamper.expected(log))
    dumped = report.to_dict()
    assert dumped["ok"] is False and {(f["kind"], f["seq"]) for f in dumped["findings"]} >= tamper.expected(log)


async def rewrite_history(h: Harness, seq: int, **change: Any) -> None:
    """What someone holding the master key and the log key can do: change an entry, give it
    a valid leaf hash and MAC, recompute every tree node and re-sign every head."""
    key, log_key = audit_log.mac_key(h.vault.ctx.master), h.vault.sequencer.log_key
    async with h.vault.ctx.sessions.begin() as s:
        rows = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        target = rows[seq]
        document = {**json.loads(target.entry), **change}
        body = audit_log.canonical(document)
        target.entry, target.leaf_hash = body.decode(), leaf_hash(body)
        target.mac = audit_log.entry_mac(key, target.leaf_hash)
        for column, value in change.items():
            setattr(target, column, value)
        tree, nodes, roots = CompactRange(), [], {}
        for r in rows:
            index = tree.size
            nodes += [
                {"level": lv, "idx": index >> lv, "hash": v} for lv, v in enumerate(tree.append(r.leaf_hash)) if lv
            ]
            roots[tree.size] = tree.root()
        await s.execute(delete(AuditNode))
        await s.execute(insert(AuditNode), nodes)
        for head in await s.scalars(select(AuditHead)):
            head.root = roots[head.tree_size]
            head.signature = log_key.sign_message(audit_log.head_text(head.tree_size, head.root, head.signed_at))


async def test_a_consistent_rewrite_with_the_keys_is_caught_by_the_chain(log: Log, small_chunks: None) -> None:
    await rewrite_history(log.h, 6, actor="gongan")  # renshe's first read now looks like gongan's
    alone = await verify(log.h, with_chain=False)
    # MACs, nodes and signatures all fit: only the chain can tell, so nothing is proven.
    assert alone.findings == [] and alone.status == "nothing_anchored" and not alone.ok
    report = await verify(log.h)
    # The re-signed heads of sizes 8 and 11 say "anchored", but the chain holds other roots.
    assert kinds(report) == ["anchor_mismatch", "unanchored"]
    detail = one(report, "anchor_mismatch")
    assert (
        "anchored on chain at size 8 " in detail
        and "entries 5 to 7" in detail
        and "1 later anchored head fails too" in detail
    )
    assert "head of size 8 is recorded as anchored" in one(report, "unanchored")


async def test_a_rewrite_anchored_again_shows_two_histories_on_chain(log: Log, small_chunks: None) -> None:
    h = log.h
    await rewrite_history(h, 3, record_types=["certificate"])
    assert (await h.http.get("/me/records", headers=(await new_citizen(h)).headers)).status_code == 200
    await h.settle()
    later = await sign_and_anchor(h)  # the sequencer signs the rewritten tree, and it is anchored
    report = await verify(h)
    assert kinds(report) == ["anchor_mismatch", "inconsistent_anchors", "unanchored"]
    assert "anchored on chain at size 5 " in one(report, "anchor_mismatch")
    assert "head of size 5 is recorded as anchored" in one(report, "unanchored")
    assert f"anchored at size {later} " in one(report, "inconsistent_anchors")
    assert f"anchored at size {log.size} " in one(report, "inconsistent_anchors")


async def new_citizen(h: Harness) -> Any:
    """A new citizen, registered and logged in (registering adds entries to the log)."""
    dept = await h.department("minzheng")
    return await h.subject(dept, identifier="110101199003073511", name="李四")


async def test_a_head_not_signed_by_the_log_key(log: Log) -> None:
    async with log.h.vault.ctx.sessions.begin() as s:
        head = await s.get(AuditHead, log.anchored[1])
        assert head is not None
        head.signature = SigningKey.generate().sign_message(
            audit_log.head_text(head.tree_size, head.root, head.signed_at)
        )
    report = await verify(log.h)
    assert kinds(report) == ["bad_head_signature"]
    assert f"head of size {log.anchored[1]} " in one(report, "bad_head_signature")


async def test_a_signed_head_whose_root_was_replaced(log: Log) -> None:
    async with log.h.vault.ctx.sessions.begin() as s:
        head = await s.get(AuditHead, log.anchored[0])
        assert head is not None
        head.root = bytes(32)
    report = await verify(log.h)
    assert kinds(report) == ["bad_head_signature", "head_mismatch", "unanchored"]
    assert f"signed tree head of size {log.anchored[0]} has root 0x{'00' * 32}" in one(report, "head_mismatch")


async def test_a_head_recorded_as_anchored_that_the_chain_never_saw(log: Log) -> None:
    h = log.h
    await new_citizen(h)  # new entries
    await h.vault.sequencer.run_once(clock.now())
    head = await h.vault.sequencer.sign_head(clock.now())  # not settled: never sent to the chain
    assert head is not None
    async with h.vault.ctx.sessions.begin() as s:
        await s.execute(
            update(AuditHead)
            .where(AuditHead.tree_size == head.tree_size)
            .values(status="anchored", tx_hash="0x" + "ab" * 32)
        )
    report = await verify(h)
    assert kinds(report) == ["unanchored"]
    assert f"head of size {head.tree_size} is recorded as anchored" in one(report, "unanchored")


async def test_an_altered_tree_node_is_found_although_every_entry_is_intact(log: Log, small_chunks: None) -> None:
    async with log.h.vault.ctx.sessions.begin() as s:
        await s.execute(update(AuditNode).where(AuditNode.level == 2, AuditNode.idx == 1).values(hash=bytes(32)))
    report = await verify(log.h)
    assert [(f.kind, f.seq) for f in report.findings] == [("modified", None)]
    assert "node (level 2, index 1) over entries 4 to 7" in report.findings[0].detail
