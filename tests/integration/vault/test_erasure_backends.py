"""The erasure conformance suite on a real anvil node, against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.erasure_conformance import *  # the shared suite runs here

pytestmark = pytest.mark.integration
