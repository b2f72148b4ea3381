"""The record types a department issues: defined here once, for the vault, the API's schemas
and the CLI.

This module imports nothing heavy, so the CLI may read it before any command runs. How the
chain encodes a set of types (one bit each, as the consent contract checks them) is the
chain's business, in ``chain.consent``; ``vault.record_bits`` speaks it for the layers above,
and a unit test keeps the two naming the same types.
"""

from __future__ import annotations

from enum import StrEnum


class RecordType(StrEnum):
    LICENCE = "licence"
    CERTIFICATE = "certificate"
    DATA = "data"


# The names, in their canonical order (the order of the chain's bits).
RECORD_TYPES: tuple[str, ...] = tuple(t.value for t in RecordType)


# GB/T 36904 证照类型代码: the defining authority's 统一社会信用代码 and a 3-digit sequence it
# assigns. These types have no national catalogue entry, so a department defines them for
# itself: its own code (颁发机构代码) followed by the sequence here. An issuer may name a
# catalogue code for a record instead (its field 类型代码).
GBT_TYPE_SEQUENCE: dict[str, str] = {
    RecordType.LICENCE: "001",
    RecordType.CERTIFICATE: "002",
    RecordType.DATA: "003",
}
