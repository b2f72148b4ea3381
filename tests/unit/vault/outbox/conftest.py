"""The outbox's unit tests: a vault on the in-process chain, its eth-tester (automine restored
afterwards), and the transactions signed (``tests.support.outbox``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Harness, open_harness
from tests.support.outbox import signatures

__all__ = ["harness", "signatures", "tester"]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


@pytest.fixture
def tester(harness: Harness) -> Iterator[Any]:
    """eth-tester behind the in-process chain; automine is restored afterwards."""
    eth_tester = harness.vault.ctx.chain.engine.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    yield eth_tester
    eth_tester.enable_auto_mine_transactions()
