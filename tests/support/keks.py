"""What the envelope tests of both suites share: a subject's key id, associated data, a
plaintext, and a look-up over given KEKs as ``keys.open_sealed`` takes one."""

from __future__ import annotations

from collections.abc import Callable

from keys import Kek, KeyId, KeyNotFoundError

KID = KeyId("subject:alice")
AAD = b"record|alice|r1|1"
PLAIN = "身份证 scan and licence".encode()


def lookup_of(*keks: Kek) -> Callable[[KeyId, int], Kek]:
    table = {(k.key_id, k.version): k for k in keks}

    def lookup(key_id: KeyId, version: int) -> Kek:
        try:
            return table[(key_id, version)]
        except KeyError:
            raise KeyNotFoundError(key_id, version) from None

    return lookup
