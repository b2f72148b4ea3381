"""The audit-anchor conformance suite on the in-process chain."""

from __future__ import annotations

import pytest

from chain.engines import Engine
from tests.audit_anchor_conformance import *  # the shared suite runs here


@pytest.fixture
def engine(inprocess_engine: Engine) -> Engine:
    return inprocess_engine
