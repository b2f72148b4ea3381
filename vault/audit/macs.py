"""Audit entry MACs of both crypto suites: each stored MAC says which it is.

intl: HMAC-SHA256 of the leaf hash, the 32 bytes every entry carried before suites (unchanged).
sm:   0x02 || HMAC-SM3 of the leaf hash (33 bytes), under a key derived with HKDF-SM3.

The first byte of a 33-byte MAC names the suite (``keys.Suite`` format byte) and a 32-byte MAC
is intl, so a log written partly under each suite (before and after a re-encryption) verifies
entry by entry, and an entry cannot be passed off as the other suite's: the lengths differ.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hmac as c_hmac

from keys import MasterKey, Suite

PURPOSE = "audit-entry-mac"
_SM_MAC_SIZE = 33


class EntryMacs:
    """The MAC keys of both suites; writes in ``suite``, checks either."""

    __slots__ = ("_keys", "suite")

    def __init__(self, master: MasterKey, suite: Suite = Suite.INTL) -> None:
        self._keys = {s: master.derive(PURPOSE, suite=s) for s in Suite}
        self.suite = suite

    def mac(self, leaf: bytes) -> bytes:
        return _mac(self._keys, self.suite, leaf)

    def check(self, leaf: bytes, mac: bytes) -> bool:
        suite = Suite.SM if len(mac) == _SM_MAC_SIZE and mac[0] == Suite.SM.format_byte else Suite.INTL
        return hmac.compare_digest(_mac(self._keys, suite, leaf), mac)

    def __repr__(self) -> str:
        return f"EntryMacs(suite={self.suite})"


def _mac(keys: dict[Suite, bytes], suite: Suite, leaf: bytes) -> bytes:
    if suite is Suite.INTL:
        return hmac.new(keys[suite], leaf, "sha256").digest()
    mac = c_hmac.HMAC(keys[suite], suite.hash())
    mac.update(leaf)
    return bytes([suite.format_byte]) + mac.finalize()
