"""The consent conformance suite on real nodes: anvil (the embedded default) and hardhat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chain.engines import Engine, make_engine
from tests.consent_conformance import *  # the shared suite runs here

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["anvil", "hardhat"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with make_engine(request.param, datadir=tmp_path_factory.mktemp(request.param)) as node:
        yield node
