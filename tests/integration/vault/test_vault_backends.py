"""The vault conformance suite on a real anvil node, against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.vault_conformance import *

pytestmark = pytest.mark.integration
