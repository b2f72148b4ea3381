"""The delegation conformance suite on a real anvil node (SQLite: what it exercises of the
database is ordinary; concurrent use counting runs on PostgreSQL in the grant suite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.delegation_conformance import *  # the shared suite runs here
from tests.support.harness import Harness, open_harness

pytestmark = pytest.mark.integration


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="anvil")
    yield h
    await h.close()
