"""Sets of record types as the chain encodes them (one bit a type), for the layers above the
vault, which do not import ``chain`` themselves. The encoding is ``chain.consent``'s."""

from __future__ import annotations

from collections.abc import Sequence

from chain import consent
from vault.record_types import RecordType

# Every record type: what a subject, or a guardian, may act on.
ALL_BITS: int = consent.ALL_RECORD_TYPES


def bits_of(names: Sequence[str]) -> int:
    """The bits of ``names``; ``ValueError`` for an unknown name."""
    return consent.record_type_bits(names)


def names_of(bits: int) -> list[RecordType]:
    """The types in ``bits``, in canonical order."""
    return [RecordType(name) for name in consent.record_type_names(bits)]
