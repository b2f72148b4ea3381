"""The bulk issuance suite on the in-process chain and SQLite."""

from __future__ import annotations

from tests.bulk_conformance import *  # the shared suite runs here
