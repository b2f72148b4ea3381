"""Every identifier type of the vault, in one place.

They are plain ``str`` at run time; the NewTypes keep a record id from being passed where a
subject id is expected.
"""

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
