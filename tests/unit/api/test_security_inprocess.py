"""The security conformance suite (sessions, agents' and registrars' scope, login limits) on
the in-process chain and SQLite."""

from __future__ import annotations

from tests.security_conformance import *  # the shared suite runs here
