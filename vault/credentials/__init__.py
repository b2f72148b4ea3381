"""Credentials: the sealed records departments issue, their anchoring in Merkle batches, their
revocation and status bits, corrections, bulk issuance and verification.

Public: ``records`` (issue, read, revoke), ``documents`` (a record's fields and their
commitments), ``commitments``, ``header``, ``verification`` (a credential checked against the
chain), ``bulk``, ``corrections`` (a subject's request and the issuer's decision; its parts in
``correction_requests``, ``correction_views`` and ``corrected_versions``),
``correction_notices``, ``status_list`` and
``status_bitmap``, ``anchoring`` (the round's batches), ``root_signatures`` (issuers' SM2
signatures of batch roots, sm suite), ``holdings`` (what a subject holds, decrypted), ``ops``
(the registry's chain writes).
"""

from vault.credentials import (
    anchoring,
    bulk,
    checks,
    commitments,
    corrected_versions,
    correction_notices,
    correction_requests,
    correction_views,
    corrections,
    documents,
    header,
    holdings,
    ops,
    records,
    root_signatures,
    status_bitmap,
    status_list,
    verification,
)

__all__ = [
    "anchoring",
    "bulk",
    "checks",
    "commitments",
    "corrected_versions",
    "correction_notices",
    "correction_requests",
    "correction_views",
    "corrections",
    "documents",
    "header",
    "holdings",
    "ops",
    "records",
    "root_signatures",
    "status_bitmap",
    "status_list",
    "verification",
]
