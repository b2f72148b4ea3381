"""The delegation conformance suite on the in-process chain and SQLite."""

from __future__ import annotations

from tests.delegation_conformance import *  # the shared suite runs here
