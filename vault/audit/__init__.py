"""The access log: every read and change appended to an RFC 9162 Merkle tree, its signed heads
anchored on chain; proofs, traces by subject, and a verifier that finds any tampering.

Public: ``log`` (the appender and its sequencer), ``access_log`` (reads of it), ``heads``,
``proofs``, ``tree``, ``trace``, ``verify``, ``scan``, ``ops`` (anchoring a head on chain).
"""

from vault.audit import access_log, heads, log, ops, proofs, scan, trace, tree, verify

__all__ = ["access_log", "heads", "log", "ops", "proofs", "scan", "trace", "tree", "verify"]
