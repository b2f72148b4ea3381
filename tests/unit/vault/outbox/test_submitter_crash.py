"""The submitter is crash-consistent: sign -> record -> broadcast -> wait, resumed after any step.

A crash is simulated by making one step raise ``Crash`` (a ``BaseException``, so nothing in
the submitter can swallow it, as nothing survives a kill -9); a fresh ``Submitter`` on the
same database and chain then plays the part of the restarted process. The in-process chain
lets a test hold transactions in the pool (no automine) and roll the chain back (snapshots),
which is what a real consortium chain and a killed node do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from web3.exceptions import Web3RPCError

from chain import transactions
from chain.errors import NodeUnavailable
from tests.support.harness import Actor, Harness, issuances
from vault import clock, outbox
from vault.credentials.anchoring import batch_pending
from vault.db.engine import create_engine, sqlite_url
from vault.db.migrate import upgrade
from vault.db.models import AnchorBatch, Base, OutboxEntry, Record
from vault.operations import OPS
from vault.outbox import queue, reconcile
from vault.outbox.backoff import BUG_ATTEMPTS, is_transient
from vault.outbox.submitter import MAX_ATTEMPTS, Submitter
from vault.setup import make_submitter


class Crash(BaseException):
    """The process died here."""


def crash(*_args: Any, **_kwargs: Any) -> Any:
    raise Crash()


async def issued(h: Harness, n: int = 3) -> tuple[Actor, Actor, list[dict[str, Any]]]:
    """A registered issuer (settled on chain), a citizen, and ``n`` pending records."""
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    return dept, citizen, [await h.issue(dept, title=f"证明 {i}") for i in range(n)]


async def batch(h: Harness) -> None:
    """Group pending records into their anchor batch and queue it, sending nothing."""
    async with h.vault.ctx.sessions.begin() as s:
        await batch_pending(s, clock.now(), 10_000)


async def entries(h: Harness, kind: str = "issue") -> list[OutboxEntry]:
    async with h.vault.ctx.sessions() as s:
        return list(await s.scalars(select(OutboxEntry).where(OutboxEntry.kind == kind).order_by(OutboxEntry.id)))


async def statuses(h: Harness) -> set[str]:
    async with h.vault.ctx.sessions() as s:
        return set(await s.scalars(select(OutboxEntry.status)))


async def mine(h: Harness, citizen: Actor) -> dict[str, dict[str, Any]]:
    r = await h.http.get("/me/records", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return {rec["id"]: rec for rec in r.json()["records"]}


def issuer_nonce(h: Harness, code: str = "gongan") -> int:
    address = h.vault.ctx.keystore.address_of(f"dept-{code}-chain")
    return int(h.vault.ctx.chain.engine.w3.eth.get_transaction_count(address))


async def assert_anchored_once(h: Harness, citizen: Actor, records: list[dict[str, Any]], tx_hash: str | None) -> None:
    """Every record anchored, its root issued exactly once, by ``tx_hash`` if given; outbox done."""
    view = await mine(h, citizen)
    roots = {view[r["id"]]["anchor"]["root"] for r in records}
    counts = issuances(h)
    assert {root: counts[root] for root in roots} == dict.fromkeys(roots, 1)
    for rec in records:
        mine_rec = view[rec["id"]]
        assert mine_rec["status"] == "anchored", mine_rec
        if tx_hash is not None:
            assert mine_rec["anchor"]["tx_hash"] == tx_hash
        receipt = h.vault.ctx.chain.engine.w3.eth.get_transaction_receipt(mine_rec["anchor"]["tx_hash"])
        assert receipt["status"] == 1 and receipt["blockNumber"] == mine_rec["anchor"]["block_number"]
        r = await h.http.post("/verify", json={"document": mine_rec["document"], "proof": mine_rec["anchor"]["proof"]})
        assert r.json()["valid"], r.json()
    assert await statuses(h) == {"done"}


# -- the three crash points --------------------------------------------------------------------


async def test_crash_after_recording_before_broadcast(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    signatures: list[str],
) -> None:
    h = harness
    _, citizen, records = await issued(h)
    nonce = issuer_nonce(h)
    signatures.clear()
    with monkeypatch.context() as m:
        m.setattr(transactions, "broadcast", crash)
        with pytest.raises(Crash):
            await h.vault.submitter.run_once()
    (entry,) = await entries(h)
    assert entry.status == "signed" and entry.nonce == nonce and entry.raw_tx
    assert entry.tx_from == h.vault.ctx.keystore.address_of("dept-gongan-chain")
    recorded = entry.tx_hash
    assert signatures == [recorded]
    assert sum(issuances(h).values()) == 0 and issuer_nonce(h) == nonce  # nothing left the process

    await make_submitter(h.vault.ctx).run_once()
    assert signatures == [recorded]  # sent as recorded, not signed again
    await assert_anchored_once(h, citizen, records, recorded)  # the very bytes recorded
    assert issuer_nonce(h) == nonce + 1


async def test_crash_after_broadcast_before_the_receipt(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)
    with monkeypatch.context() as m:
        m.setattr(Submitter, "_wait", crash)
        with pytest.raises(Crash):
            await h.vault.submitter.run_once()
    (entry,) = await entries(h)
    assert entry.status == "signed" and entry.block_number is None
    assert sum(issuances(h).values()) == 1  # mined, but the vault does not know yet
    async with h.vault.ctx.sessions() as s:
        assert set(await s.scalars(select(Record.status))) == {"pending"}

    await make_submitter(h.vault.ctx).run_once()
    await assert_anchored_once(h, citizen, records, entry.tx_hash)


async def test_crash_after_the_receipt_before_the_commit(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)
    with monkeypatch.context() as m:
        m.setitem(OPS, "issue", dataclasses.replace(OPS["issue"], done=crash))
        with pytest.raises(Crash):
            await h.vault.submitter.run_once()
    (entry,) = await entries(h)
    assert entry.status == "signed" and sum(issuances(h).values()) == 1
    async with h.vault.ctx.sessions() as s:  # the commit that would have said so was rolled back
        assert set(await s.scalars(select(Record.status))) == {"pending"}
        assert set(await s.scalars(select(AnchorBatch.status))) == {"pending"}

    await make_submitter(h.vault.ctx).run_once()
    await assert_anchored_once(h, citizen, records, entry.tx_hash)


async def test_repeated_crashes_still_send_one_transaction(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)
    # Each restart gets one step further before dying again.
    for step in ("broadcast", "broadcast", "wait", "commit", "commit"):
        with monkeypatch.context() as m:
            if step == "broadcast":
                m.setattr(transactions, "broadcast", crash)
            elif step == "wait":
                m.setattr(Submitter, "_wait", crash)
            else:
                m.setitem(OPS, "issue", dataclasses.replace(OPS["issue"], done=crash))
            with pytest.raises(Crash):
                await make_submitter(h.vault.ctx).run_once()
    hashes = {e.tx_hash for e in await entries(h)}
    assert len(hashes) == 1
    await make_submitter(h.vault.ctx).run_once()
    await assert_anchored_once(h, citizen, records, hashes.pop())


# -- a transaction still in the pool at restart (a chain that does not mine at once) -------------


async def test_restart_while_the_transaction_is_in_the_pool_sends_nothing_new(
    harness: Harness,
    tester: Any,
    signatures: list[str],
) -> None:
    h = harness
    _, citizen, records = await issued(h)
    signatures.clear()
    nonce = issuer_nonce(h)
    tester.disable_auto_mine_transactions()
    assert await make_submitter(h.vault.ctx, receipt_timeout=0.1).run_once() == 0
    (entry,) = await entries(h)
    assert entry.status == "signed"
    # Restarted twice while the block is still to come: no second transaction (which would
    # revert with AlreadyIssued and take the records down with it).
    for _ in range(2):
        assert await make_submitter(h.vault.ctx, receipt_timeout=0.1).run_once() == 0
    assert signatures == [entry.tx_hash]
    tester.mine_blocks(1)
    tester.enable_auto_mine_transactions()
    assert await make_submitter(h.vault.ctx).run_once() == 1
    await assert_anchored_once(h, citizen, records, entry.tx_hash)
    assert issuer_nonce(h) == nonce + 1 and signatures == [entry.tx_hash]


# -- dropped, replaced, rolled back -------------------------------------------------------------


async def _signed_but_not_sent(h: Harness, monkeypatch: pytest.MonkeyPatch) -> OutboxEntry:
    with monkeypatch.context() as m:
        m.setattr(transactions, "broadcast", crash)
        with pytest.raises(Crash):
            await h.vault.submitter.run_once()
    (entry,) = await entries(h)
    assert entry.status == "signed"
    return entry


async def test_nonce_taken_by_another_transaction_is_signed_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    _, citizen, records = await issued(h)
    entry = await _signed_but_not_sent(h, monkeypatch)
    # Something else used the recorded nonce: the recorded transaction can never be mined.
    issuer = h.vault.ctx.account("dept-gongan-chain")
    w3 = h.vault.ctx.chain.engine.w3
    transactions.transfer(w3, issuer, issuer.address, 0, nonce=entry.nonce)

    await make_submitter(h.vault.ctx).run_once()
    (after,) = await entries(h)
    assert after.tx_hash != entry.tx_hash and after.nonce == (entry.nonce or 0) + 1
    await assert_anchored_once(h, citizen, records, after.tx_hash)


async def test_replaced_by_a_transaction_with_the_same_effect_is_done_with_that_hash(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = harness
    _, citizen, records = await issued(h)
    entry = await _signed_but_not_sent(h, monkeypatch)
    # The same anchor, signed again at the same nonce (say by an operator bumping the fee).
    payload = outbox.payload_of(entry)
    client, issuer = h.vault.ctx.chain.client, h.vault.ctx.account("dept-gongan-chain")
    replacement = client.issue(
        issuer,
        bytes.fromhex(payload["root"][2:]),
        payload["valid_from"],
        payload["valid_until"],
        nonce=entry.nonce,
    )

    await make_submitter(h.vault.ctx).run_once()
    await assert_anchored_once(h, citizen, records, "0x" + replacement.tx_hash.hex())


async def test_recorded_bytes_the_node_refuses_are_signed_again_at_the_same_nonce(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    tester: Any,
) -> None:
    h = harness
    _, citizen, records = await issued(h)
    entry = await _signed_but_not_sent(h, monkeypatch)
    tester.mine_blocks(1)  # an empty block: the base fee moves, so new bytes differ from the old
    real = transactions.broadcast

    def picky(w3: Any, signed: transactions.SignedTx, *args: Any) -> bytes:
        if "0x" + signed.tx_hash.hex() == entry.tx_hash:
            raise Web3RPCError("max fee per gas less than block base fee")
        return real(w3, signed, *args)

    monkeypatch.setattr(transactions, "broadcast", picky)
    await make_submitter(h.vault.ctx).run_once()
    (after,) = await entries(h)
    assert after.tx_hash != entry.tx_hash and after.nonce == entry.nonce
    await assert_anchored_once(h, citizen, records, after.tx_hash)


async def test_a_nonce_gap_is_signed_again_at_the_chain_nonce(harness: Harness) -> None:
    h = harness
    _, citizen, records = await issued(h)
    await batch(h)
    (entry,) = await entries(h)
    assert entry.status == "pending"
    # As if recorded before the chain lost an earlier transaction: one nonce too far.
    issuer = h.vault.ctx.account("dept-gongan-chain")
    ahead = transactions.sign(h.vault.ctx.chain.engine.w3, issuer, to=issuer.address, nonce=issuer_nonce(h) + 1)
    async with h.vault.ctx.sessions.begin() as s:
        row = await s.get(OutboxEntry, entry.id)
        assert row is not None
        queue.record_signed(row, ahead, 0)

    await make_submitter(h.vault.ctx).run_once()
    (after,) = await entries(h)
    assert after.tx_hash != "0x" + ahead.tx_hash.hex()
    await assert_anchored_once(h, citizen, records, after.tx_hash)


async def test_reverted_after_pre_flight_is_checked_again_then_refused(harness: Harness, tester: Any) -> None:
    h = harness
    _, citizen, records = await issued(h)
    await batch(h)
    chain = h.vault.ctx.chain
    w3, client = chain.engine.w3, chain.client
    tester.disable_auto_mine_transactions()
    # The issuer is deactivated on chain ahead of the anchor, in the same block: the anchor
    # passes pre-flight, then reverts when mined.
    account = h.vault.ctx.keystore.address_of("dept-gongan-chain")
    data = bytes.fromhex(client.contract.encode_abi("deactivateDepartment", args=[account])[2:])
    deactivate = transactions.sign(w3, chain.operator, to=client.address, data=data, gas=200_000)
    transactions.broadcast(w3, deactivate)
    sub = make_submitter(h.vault.ctx, receipt_timeout=0.1)
    assert await sub.run_once() == 0
    (entry,) = await entries(h)
    assert entry.status == "signed"
    tester.mine_blocks(1)
    tester.enable_auto_mine_transactions()
    receipt = w3.eth.get_transaction_receipt(entry.tx_hash)
    assert receipt["status"] == 0

    assert await sub.run_once() == 1
    (entry,) = await entries(h)
    assert entry.status == "failed" and "NotIssuer" in (entry.last_error or "")
    view = await mine(h, citizen)
    assert {view[r["id"]]["status"] for r in records} == {"failed"}
    assert all("NotIssuer" in view[r["id"]]["status_reason"] for r in records)
    assert sum(issuances(h).values()) == 0


# -- the node is unreachable for a while --------------------------------------------------------


def _outage(h: Harness, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    provider = h.vault.ctx.chain.engine.w3.provider
    real = provider.make_request
    down = {"now": False}

    def make_request(method: Any, params: Any) -> Any:
        if down["now"]:
            raise requests.ConnectionError("connection refused")
        return real(method, params)

    monkeypatch.setattr(provider, "make_request", make_request)
    monkeypatch.setattr(provider, "_request_func_cache", (None, None))  # web3 caches the bound method

    def switch(is_down: bool) -> None:
        down["now"] = is_down

    return switch


async def test_an_unreachable_node_never_fails_an_entry(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)
    outage = _outage(h, monkeypatch)
    sub = make_submitter(h.vault.ctx, max_backoff=0)
    outage(True)
    for _ in range(MAX_ATTEMPTS + 5):
        assert await sub.run_once() == 0
    (entry,) = await entries(h)
    assert entry.status == "pending" and entry.attempts == MAX_ATTEMPTS + 5
    assert "NodeUnavailable" in (entry.last_error or "")
    assert {r["status"] for r in (await mine(h, citizen)).values()} == {"pending"}

    # The node goes away between recording and broadcasting: the recorded bytes wait for it.
    outage(False)
    with monkeypatch.context() as m:

        def unreachable(*_args: Any, **_kwargs: Any) -> Any:
            raise requests.ConnectionError("connection reset")

        m.setattr(transactions, "broadcast", unreachable)
        assert await sub.run_once() == 0
    (entry,) = await entries(h)
    assert entry.status == "signed"
    await sub.run_once()
    await assert_anchored_once(h, citizen, records, entry.tx_hash)


async def test_retries_back_off(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)
    outage = _outage(h, monkeypatch)
    sub = make_submitter(h.vault.ctx, max_backoff=60)
    outage(True)
    await sub.run_once()
    outage(False)
    assert await sub.run_once() == 0  # still backing off, though the node is back
    (entry,) = await entries(h)
    assert entry.attempts == 1 and entry.status == "pending"
    await make_submitter(h.vault.ctx).run_once()  # a restart forgets the delay
    await assert_anchored_once(h, citizen, records, None)


def test_only_unavailability_is_transient() -> None:
    assert is_transient(NodeUnavailable("down")) and is_transient(ConnectionRefusedError())
    assert is_transient(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert not is_transient(ValueError("a bug")) and not is_transient(KeyError("root"))


async def test_a_bug_in_a_submission_is_not_retried_forever(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _, citizen, records = await issued(h)

    def buggy(*_args: Any) -> Any:
        raise ValueError("a bug in building the call")

    monkeypatch.setitem(OPS, "issue", dataclasses.replace(OPS["issue"], build=buggy))
    sub = make_submitter(h.vault.ctx, max_backoff=0)
    for attempt in range(1, BUG_ATTEMPTS):
        assert await sub.run_once() == 0  # retried a few times, in case it was a fluke
        (entry,) = await entries(h)
        assert entry.status == "pending" and entry.attempts == attempt
    assert await sub.run_once() == 1  # then given up: the queue behind it moves on
    (entry,) = await entries(h)
    assert entry.status == "failed" and entry.attempts == BUG_ATTEMPTS
    assert entry.last_error == "ValueError: a bug in building the call"
    assert {r["status"] for r in (await mine(h, citizen)).values()} == {"failed"}
    await sub.run_once()
    (entry,) = await entries(h)
    assert entry.attempts == BUG_ATTEMPTS and len(records) == 3
    assert sum(issuances(h).values()) == 0


# -- the chain lost blocks (a node killed before it saved them) -----------------------------------


async def test_reconcile_requeues_lost_writes_in_order(harness: Harness, tester: Any) -> None:
    h = harness
    before_department = tester.take_snapshot()
    _, citizen, records = await issued(h)
    await h.settle()
    first = await mine(h, citizen)
    assert {r["status"] for r in first.values()} == {"anchored"}
    # The node comes back without anything since the snapshot: funding, registration, the
    # subject's key binding, the anchor.
    tester.revert_to_snapshot(before_department)
    assert sum(issuances(h).values()) == 0

    sub = make_submitter(h.vault.ctx)
    lost = await sub.reconcile()
    assert lost == 4  # fund, add_department, bind_subject, issue: reset in place, in their order
    assert await sub.reconcile() == 0  # nothing twice
    assert {r["status"] for r in (await mine(h, citizen)).values()} == {"pending"}
    await sub.run_once()
    await assert_anchored_once(h, citizen, records, None)
    assert [e.kind for e in await entries(h, "fund")] == ["fund"]
    async with h.vault.ctx.sessions() as s:
        assert int(await s.scalar(text("SELECT count(*) FROM outbox")) or 0) == 4


async def test_reconcile_finds_an_anchor_missing_for_another_reason(harness: Harness, tester: Any) -> None:
    h = harness
    _, citizen, records = await issued(h)
    snapshot = tester.take_snapshot()
    await h.settle()
    tester.revert_to_snapshot(snapshot)
    tester.mine_blocks(5)  # the head is past the lost block again: only the root check can tell
    assert await make_submitter(h.vault.ctx).reconcile() == 1
    await h.settle()
    await assert_anchored_once(h, citizen, records, None)
    assert len(await entries(h)) == 1  # the same entry, carried out again


# -- schema ------------------------------------------------------------------------------------


async def test_migration_0002_keeps_queued_work_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (kind, payload, sender, status, attempts, created_at, updated_at) "
                    "VALUES ('issue', :p, 'dept-x-chain', 'pending', 0, 1, 1)"
                ),
                {"p": json.dumps({"root": "0x" + "11" * 32})},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT status, raw_tx, nonce, tx_from, signed_at FROM outbox"))).one()
            assert tuple(row) == ("pending", None, None, None, None)
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert [d for d in diff if "outbox" in repr(d)] == []
    finally:
        await engine.dispose()


async def test_a_chain_that_goes_back_under_a_running_submitter_gets_its_writes_again(
    harness: Harness, tester: Any
) -> None:
    """The node is killed and restarted from older state while the vault keeps running: the
    submitter sees the block it last saw gone, and carries out again what the chain lost, even
    once the chain has sealed new blocks past the old height."""
    h = harness
    sub = h.vault.submitter
    _, citizen, records = await issued(h)
    snapshot = tester.take_snapshot()
    await h.settle()
    assert {r["status"] for r in (await mine(h, citizen)).values()} == {"anchored"}
    await sub.run_once()  # remembers the head, the anchor's block
    tester.revert_to_snapshot(snapshot)
    tester.mine_blocks(5)  # past the old height again: only the lost block's hash tells
    assert sum(issuances(h).values()) == 0

    await sub.run_once()
    await h.settle()
    await assert_anchored_once(h, citizen, records, None)
    assert len(await entries(h)) == 1  # the same entry, carried out again


async def test_a_write_whose_effect_the_chain_holds_is_kept_though_its_receipt_is_gone(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node restored from a state file keeps the state, not always the history: a write whose
    transaction it no longer knows, but whose effect it holds, is not carried out again."""
    h = harness
    _, citizen, records = await issued(h)
    await h.settle()
    monkeypatch.setattr(reconcile, "_still_mined", lambda *_a: False)
    assert await reconcile.requeue_lost(h.vault.ctx, OPS, above=0) == 0
    assert {e.status for e in await entries(h)} == {"done"}
    await assert_anchored_once(h, citizen, records, None)
