"""The chain view's conformance suite on the in-process chain (read through its ``Web3``)."""

from __future__ import annotations

import pytest

from chain.engines import Engine
from tests.view_conformance import *


@pytest.fixture
def engine(inprocess_engine: Engine) -> Engine:
    return inprocess_engine
