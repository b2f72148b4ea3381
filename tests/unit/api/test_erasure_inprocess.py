"""The erasure conformance suite on the in-process chain and a SQLite file."""

from __future__ import annotations

from tests.erasure_conformance import *  # the shared suite runs here
