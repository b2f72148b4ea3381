"""The record types are defined once (``vault.record_types``); the chain's bit encoding
(``chain.consent``) and the CLI's copy of it name exactly the same types, in the same order."""

from __future__ import annotations

import subprocess
import sys

from chain import consent
from vault.record_bits import ALL_BITS, bits_of, names_of
from vault.record_types import RECORD_TYPES, RecordType


def test_the_chain_encodes_exactly_the_vault_types() -> None:
    assert tuple(consent.RECORD_TYPE_BITS) == RECORD_TYPES == tuple(t.value for t in RecordType)
    bits = list(consent.RECORD_TYPE_BITS.values())
    assert all(b > 0 and b & (b - 1) == 0 for b in bits) and len(set(bits)) == len(bits), "one bit a type"
    assert consent.ALL_RECORD_TYPES == ALL_BITS == sum(bits)


def test_bits_and_names_round_trip() -> None:
    assert names_of(ALL_BITS) == list(RecordType)
    for t in RecordType:
        assert names_of(bits_of([t])) == [t]
    assert bits_of([]) == 0 and names_of(0) == []


def test_the_definition_imports_nothing_heavy() -> None:
    # The CLI reads it before any command runs: no web3, SQLAlchemy, pydantic or chain.
    code = (
        "import sys, vault.record_types; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'chain', 'keys', 'api', 'web3', 'eth_account', 'sqlalchemy', 'pydantic', 'fastapi'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
