"""The access-log conformance suite on the in-process chain and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.audit_log_conformance import *  # the shared suite runs here
from tests.support.harness import Harness, open_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()
