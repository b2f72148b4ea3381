"""Several transactions in flight: the crash guarantees of the one-at-a-time protocol still
hold when a round records a chunk of entries, sends them, and settles them together.

How they share blocks is tested on anvil (``tests/integration/vault/test_pipeline_blocks.py``):
the in-process chain takes one pending transaction per sender when it does not mine at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chain import transactions
from tests.delegation_conformance import grant_as, subject_id
from tests.grant_conformance import LICENCE_FIELDS
from tests.support.harness import Actor, Harness, open_harness
from vault.db.models import OutboxEntry
from vault.outbox.pipeline import Pipeline
from vault.setup import make_submitter


class Crash(BaseException):
    """The process died here."""


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


@pytest.fixture
def tester(harness: Harness) -> Iterator[Any]:
    eth_tester = harness.vault.ctx.chain.engine.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    yield eth_tester
    eth_tester.enable_auto_mine_transactions()


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    signed: list[str] = []
    real = transactions.sign

    def sign(*args: Any, **kwargs: Any) -> transactions.SignedTx:
        tx = real(*args, **kwargs)
        signed.append("0x" + tx.tx_hash.hex())
        return tx

    monkeypatch.setattr(transactions, "sign", sign)
    return signed


async def queued_grants(h: Harness, n: int) -> tuple[Actor, list[str]]:
    """A citizen with a licence on chain and ``n`` grants queued, none sent yet."""
    registrar = await h.department("gongan")
    await h.department("renshe", roles=["data_user"])
    citizen = await h.subject(registrar)
    await h.issue(registrar, fields=LICENCE_FIELDS)
    await h.settle()
    sid = await subject_id(h, citizen)
    ids = []
    for _ in range(n):
        r = await grant_as(h, citizen, sid, citizen.key)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return citizen, ids


async def grant_entries(h: Harness) -> list[OutboxEntry]:
    async with h.vault.ctx.sessions() as s:
        return list(await s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "grant").order_by(OutboxEntry.id)))


async def statuses(h: Harness, citizen: Actor, ids: list[str]) -> list[str]:
    return [(await h.http.get(f"/me/grants/{g}", headers=citizen.headers)).json()["status"] for g in ids]


def operator_nonce(h: Harness) -> int:
    chain = h.vault.ctx.chain
    return int(chain.engine.w3.eth.get_transaction_count(chain.operator.address))


async def test_crash_between_recording_a_chunk_and_sending_it_resends_the_same_bytes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, signatures: list[str]
) -> None:
    h = harness
    citizen, ids = await queued_grants(h, 5)
    signatures.clear()
    real = transactions.broadcast
    sent: list[bytes] = []

    def dies_on_the_third(*args: Any, **kwargs: Any) -> bytes:
        if len(sent) == 2:
            raise Crash()
        sent.append(args[1].tx_hash)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(transactions, "broadcast", dies_on_the_third)
        with pytest.raises(Crash):
            await make_submitter(h.vault.ctx).run_once()
    entries = await grant_entries(h)
    assert [e.status for e in entries] == ["signed"] * 5  # all recorded before the first left
    recorded = [e.tx_hash for e in entries]
    assert signatures == recorded

    await make_submitter(h.vault.ctx).run_once()
    assert await statuses(h, citizen, ids) == ["active"] * 5
    assert signatures == recorded  # the recorded bytes were sent, none signed again
    assert [e.tx_hash for e in await grant_entries(h)] == recorded


async def test_crash_after_the_blocks_before_settling_settles_from_the_receipts(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, signatures: list[str]
) -> None:
    h = harness
    citizen, ids = await queued_grants(h, 4)
    signatures.clear()
    with monkeypatch.context() as m:
        m.setattr(Pipeline, "_settle_many", lambda *_a: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            await make_submitter(h.vault.ctx).run_once()
    assert [e.status for e in await grant_entries(h)] == ["signed"] * 4
    await make_submitter(h.vault.ctx).run_once()
    assert await statuses(h, citizen, ids) == ["active"] * 4
    assert len(signatures) == 4
