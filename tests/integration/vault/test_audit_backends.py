"""The access log on a real anvil node, against SQLite and PostgreSQL: the access-log
conformance suite, verification of the log against its heads and anchors with every kind of
tampering (tests/unit/vault/audit/test_audit_verify.py), and fail closed when the log's storage
refuses writes (tests/unit/vault/audit/test_audit_fail_closed.py: on PostgreSQL a trigger function
that raises on insert into ``audit_queue``)."""

from __future__ import annotations

import pytest

from tests.audit_log_conformance import *  # the shared suites run here
from tests.support.backends import backend_harness
from tests.unit.vault.audit.test_audit_fail_closed import *
from tests.unit.vault.audit.test_audit_verify import *

pytestmark = pytest.mark.integration


# The unit suites imported above bring their in-process ``harness``; these run on each backend.
harness = backend_harness
