"""The API tests' ``harness``: a vault on the in-process chain (``tests.support.harness``). A
module that needs another vault defines its own."""

from tests.support.harness import inprocess_harness  # noqa: F401 - the ``harness`` fixture
