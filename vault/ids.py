"""Every identifier type of the vault, in one place.

They are plain ``str`` at run time; the NewTypes keep a record id from being passed where a
subject id is expected.
"""

import secrets
import time
import uuid
from typing import NewType

# 0x-prefixed hex of the 32-byte keyed hash of an ID number / credit code: the only subject
# identifier the vault and the chain ever hold.
SubjectId = NewType("SubjectId", str)
RecordId = NewType("RecordId", str)
# A department's short code ("gongan", "renshe", ...), also its on-chain bytes32 code.
DepartmentCode = NewType("DepartmentCode", str)
# 0x-prefixed checksum address.
Address = NewType("Address", str)
# 0x-prefixed hex of a 32-byte hash.
Hash32 = NewType("Hash32", str)


def new_record_id() -> RecordId:
    """A UUIDv7 (RFC 9562): random, but sortable by creation time to the millisecond, so a
    subject's records list in the order they were issued even within one second."""
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | secrets.randbits(12) << 64 | 0b10 << 62 | secrets.randbits(62)
    return RecordId(str(uuid.UUID(int=value)))
