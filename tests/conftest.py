"""Shared fixtures. Chain engines: the in-process chain, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chain.engines import Engine, make_engine


@pytest.fixture(scope="session")
def inprocess_engine() -> Iterator[Engine]:
    with make_engine("inprocess") as engine:
        yield engine
