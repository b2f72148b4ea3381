"""The submitter's look for a chain that went back (``vault.outbox.reconcile.Rewind``), on the
in-process chain, whose snapshots stand in for a node restarted from older saved state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.harness import Harness, open_harness
from vault.outbox.reconcile import Rewind


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def test_a_look_missed_while_the_node_was_away_goes_back_the_next_time(harness: Harness) -> None:
    chain = harness.vault.ctx.chain
    w3 = chain.engine.w3
    testing: Any = cast(Any, w3).testing  # eth-tester's snapshots, mining on demand
    kept = int(w3.eth.block_number)
    saved = testing.snapshot()

    # Without the missed look, the loss is invisible: the last block seen is still there, the
    # same, and the blocks written after it are gone.
    blind = Rewind()
    assert blind.went_back(chain) is None
    testing.mine(3)  # writes recorded in these blocks
    testing.revert(saved)  # the node came back from state saved before them
    assert blind.went_back(chain) is None

    # With it (the look after those writes failed: the node was away), the next look goes back.
    rewind = Rewind()
    assert rewind.went_back(chain) is None
    testing.mine(3)
    rewind.missed = True
    testing.revert(saved)
    above = rewind.went_back(chain)
    assert above == max(kept - Rewind.LOOK_BACK, -1)
    assert not rewind.missed and rewind.went_back(chain) is None  # one look, then as before
