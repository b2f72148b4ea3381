"""The vault suites' ``harness``: a vault on a real anvil node, once with each database backend
(``tests.support.backends``). A module that needs another vault defines its own."""

from tests.support.backends import backend_harness  # noqa: F401 - the ``harness`` fixture
from tests.support.outbox import signatures  # noqa: F401 - the transactions the code under test signs
