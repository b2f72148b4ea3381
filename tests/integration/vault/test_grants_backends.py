"""The grant conformance suite on a real anvil node, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.grant_conformance import *  # the shared suite runs here
from tests.support.harness import Harness, open_harness
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "sqlite":
        h = await open_harness(tmp_path, chain="anvil")
        yield h
        await h.close()
        return
    async with fresh_database() as url:
        h = await open_harness(tmp_path, chain="anvil", database_url=url)
        yield h
        await h.close()
