"""Several transactions in flight: the crash guarantees of the one-at-a-time protocol still
hold when a round records a chunk of entries, sends them, and settles them together.

How they share blocks is tested on anvil (``tests/integration/vault/test_pipeline_blocks.py``):
the in-process chain takes one pending transaction per sender when it does not mine at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from chain import transactions
from tests.support.harness import Harness
from tests.support.outbox import citizen_with_licence, grant_entries, grant_statuses, queue_grants
from vault.outbox.pipeline import Pipeline
from vault.setup import make_submitter


class Crash(BaseException):
    """The process died here."""


async def test_crash_between_recording_a_chunk_and_sending_it_resends_the_same_bytes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, signatures: list[str]
) -> None:
    h = harness
    citizen, sid = await citizen_with_licence(h)
    ids = await queue_grants(h, citizen, sid, 5)
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
    assert await grant_statuses(h, citizen, ids) == ["active"] * 5
    assert signatures == recorded  # the recorded bytes were sent, none signed again
    assert [e.tx_hash for e in await grant_entries(h)] == recorded


async def test_crash_after_the_blocks_before_settling_settles_from_the_receipts(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, signatures: list[str]
) -> None:
    h = harness
    citizen, sid = await citizen_with_licence(h)
    ids = await queue_grants(h, citizen, sid, 4)
    signatures.clear()
    with monkeypatch.context() as m:
        m.setattr(Pipeline, "_settle_many", lambda *_a: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            await make_submitter(h.vault.ctx).run_once()
    assert [e.status for e in await grant_entries(h)] == ["signed"] * 4
    await make_submitter(h.vault.ctx).run_once()
    assert await grant_statuses(h, citizen, ids) == ["active"] * 4
    assert len(signatures) == 4
