"""Shared fixtures. Chain engines: the in-process chain, started once per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from chain.engines import Engine, make_engine


@pytest.fixture(scope="session")
def inprocess_engine() -> Iterator[Engine]:
    with make_engine("inprocess") as engine:
        yield engine


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # The backend suites' shared anvil node, stopped here rather than left to exit handlers.
    backends = sys.modules.get("tests.support.backends")
    if backends is not None:
        backends.stop_shared()
    scratch = sys.modules.get("tests.support.scratch")
    if scratch is not None:
        scratch.remove_all()
