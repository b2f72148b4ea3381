"""A vault on a real chain node against each database backend, for the integration suites."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.harness import Harness, open_harness
from tests.support.postgres import fresh_database

BACKENDS = ["sqlite", "postgresql"]


@asynccontextmanager
async def harness_on(backend: str, tmp_path: Path, chain: str = "anvil") -> AsyncIterator[Harness]:
    """A harness on ``chain`` with SQLite in ``tmp_path`` or a fresh PostgreSQL database."""
    if backend == "sqlite":
        h = await open_harness(tmp_path, chain=chain)
        try:
            yield h
        finally:
            await h.close()
        return
    async with fresh_database() as url:
        h = await open_harness(tmp_path, chain=chain, database_url=url)
        try:
            yield h
        finally:
            await h.close()
