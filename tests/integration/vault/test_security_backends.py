"""The security conformance suite on a real anvil node, against SQLite and PostgreSQL: the
session and challenge bounds hold across workers because they live in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.security_conformance import *  # the shared suite runs here
from tests.support.backends import BACKENDS, harness_on
from tests.support.harness import Harness

pytestmark = pytest.mark.integration


@pytest.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness_on(request.param, tmp_path) as h:
        yield h
