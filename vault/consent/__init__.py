"""Consent: what a subject lets a department read, for what purpose and until when, signed
with the subject's own key; agents and guardians appointed to act for a subject; revocations.

Public: ``grants`` (prepare, submit, read under a grant), ``terms`` (a grant's terms checked,
parsed and rebuilt, and who may sign them), ``receipts`` (a grant's status and consent receipt),
``access`` (which grant allows what), ``read_facts`` (what a read checks, looked up in one
statement), ``disclosure`` (field paths), ``revocations``,
``delegations``, ``purposes``, ``typed_data`` (the EIP-712 domain the wallet signs in), ``ops``
(the consent registry's chain writes).
"""

from vault.consent import (
    access,
    delegations,
    disclosure,
    grants,
    ops,
    purposes,
    read_facts,
    receipts,
    revocations,
    terms,
    typed_data,
)

__all__ = [
    "access",
    "delegations",
    "disclosure",
    "grants",
    "ops",
    "purposes",
    "read_facts",
    "receipts",
    "revocations",
    "terms",
    "typed_data",
]
