"""The audit-anchor conformance suite on anvil, the embedded default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chain.engines import Engine, make_engine
from tests.audit_anchor_conformance import *  # the shared suite runs here

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with make_engine("anvil", datadir=tmp_path_factory.mktemp("anvil")) as node:
        yield node
