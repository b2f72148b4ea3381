"""The security conformance suite on a real anvil node, against SQLite and PostgreSQL: the
session and challenge bounds hold across workers because they live in the database."""

from __future__ import annotations

import pytest

from tests.security_conformance import *  # the shared suite runs here

pytestmark = pytest.mark.integration
