"""Filling blocks on a real node: one sender's grants go out at consecutive nonces before any
block is waited for, one block holds them all, and a write that needs one still in flight
waits for it rather than fail. anvil with mining switched off plays a chain whose next block
is still to come; the test seals it (``evm_mine``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from chain.engines.anvil import AnvilEngine
from chain.errors import ChainError
from chain.transactions import SignedTx
from chain.tx_batch import HttpTxBatch
from keys import SigningKey
from tests.delegation_conformance import grant_as
from tests.support.harness import Harness, open_harness
from tests.support.outbox import citizen_with_licence, grant_entries, grant_statuses, operator_nonce, queue_grants
from vault.db.models import OutboxEntry
from vault.setup import make_submitter

pytestmark = pytest.mark.integration


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilEngine]:
    with AnvilEngine(tmp_path / "chain", zero_gas=True) as engine:
        yield engine


@pytest.fixture
async def harness(tmp_path: Path, node: AnvilEngine) -> AsyncIterator[Harness]:
    assert node.rpc_url is not None
    key = "0x" + bytes(node.dev_account().key).hex()
    h = await open_harness(tmp_path / "vault", chain="rpc", rpc_url=node.rpc_url, signer_key=key)
    yield h
    await h.close()


def automine(h: Harness, on: bool) -> None:
    h.vault.ctx.chain.engine.w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


def seal(h: Harness) -> None:
    h.vault.ctx.chain.engine.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


async def test_a_round_sends_every_grant_before_waiting_and_one_block_holds_them(
    harness: Harness, signatures: list[str]
) -> None:
    h = harness
    citizen, sid = await citizen_with_licence(h)
    ids = await queue_grants(h, citizen, sid, 6)
    nonce = operator_nonce(h)
    signatures.clear()
    automine(h, False)
    assert await make_submitter(h.vault.ctx, receipt_timeout=0.1).run_once() == 0
    entries = await grant_entries(h)
    assert [e.status for e in entries] == ["signed"] * 6
    assert [e.nonce for e in entries] == list(range(nonce, nonce + 6))  # consecutive, in queue order
    assert signatures == [e.tx_hash for e in entries]

    seal(h)
    automine(h, True)
    assert await make_submitter(h.vault.ctx).run_once() == 6
    entries = await grant_entries(h)
    assert {e.status for e in entries} == {"done"} and len({e.block_number for e in entries}) == 1
    assert await grant_statuses(h, citizen, ids) == ["active"] * 6
    assert len(signatures) == 6  # nothing signed twice


async def test_one_at_a_time_waits_for_each_block(harness: Harness) -> None:
    h = harness
    citizen, sid = await citizen_with_licence(h)
    await queue_grants(h, citizen, sid, 3)
    automine(h, False)
    assert await make_submitter(h.vault.ctx, receipt_timeout=0.1, in_flight=1).run_once() == 0
    assert [e.status for e in await grant_entries(h)] == ["signed", "pending", "pending"]


async def test_a_write_that_needs_one_in_flight_waits_for_it_rather_than_fail(harness: Harness) -> None:
    """A department is registered (queued) and a grant to it queued behind: the grant's
    pre-flight fails while the registration is in flight, and it must wait, not be refused."""
    h = harness
    citizen, sid = await citizen_with_licence(h, reader=False)
    automine(h, False)
    body = {"code": "renshe", "name": "renshe", "roles": ["data_user"], "auth_address": SigningKey.generate().address}
    assert (await h.http.post("/departments", json=body, headers=h.admin.headers)).status_code == 201
    r = await grant_as(h, citizen, sid, citizen.key)
    assert r.status_code == 201, r.text
    assert await make_submitter(h.vault.ctx, receipt_timeout=0.1).run_once() == 0
    async with h.vault.ctx.sessions() as s:
        assert "failed" not in set(await s.scalars(select(OutboxEntry.status)))
    seal(h)
    automine(h, True)
    await h.settle()
    assert await grant_statuses(h, citizen, [r.json()["id"]]) == ["active"]


async def test_a_chunk_the_node_refuses_partway_is_finished_entry_by_entry(
    harness: Harness, signatures: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk's sends go to the node in one request; here its third transaction reached
    the node first (as after a crash between a send and its answer), so the node refuses it
    ("already known"). The two before it are in the run; the rest go through the per-entry
    protocol, which finds the third out there, and every grant lands once."""
    h = harness
    citizen, sid = await citizen_with_licence(h)
    ids = await queue_grants(h, citizen, sid, 5)
    signatures.clear()
    automine(h, False)
    batch = h.vault.ctx.chain.tx_batch
    assert isinstance(batch, HttpTxBatch)
    real = batch.broadcasts
    refused: list[ChainError | None] = []

    async def third_known(txs: Sequence[SignedTx]) -> list[ChainError | None]:
        h.vault.ctx.chain.engine.w3.eth.send_raw_transaction(txs[2].raw)
        refused.extend(await real(txs))
        return refused

    monkeypatch.setattr(batch, "broadcasts", third_known)
    assert await make_submitter(h.vault.ctx, receipt_timeout=0.1).run_once() == 0
    assert refused[:2] == [None, None] and refused[2] is not None  # the node said no to the third
    monkeypatch.undo()
    automine(h, True)
    seal(h)
    assert await make_submitter(h.vault.ctx).run_once() == 5
    assert await grant_statuses(h, citizen, ids) == ["active"] * 5
    assert len(signatures) == 5  # nothing signed twice
    assert len({e.tx_hash for e in await grant_entries(h)}) == 5
