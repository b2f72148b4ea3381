"""Presentations: a credential shown by its holder, fields chosen and signed on the phone, as
a QR code; and their verification, online or offline from a status snapshot.

Public: ``holder`` (prepare and finish a presentation), ``verify`` (a verifier's checks),
``codec`` and ``qr`` (the compact form and its picture), ``cose_qr`` and ``cose_holder``
(the same as a CWT in COSE, ``DC1:``), ``nonces``, ``status_snapshot``,
``issuer_signatures``, ``model``, ``checks``. ``base45`` is the codec's own.
"""

from vault.presentations import (
    checks,
    codec,
    cose_holder,
    cose_qr,
    holder,
    issuer_signatures,
    model,
    nonces,
    qr,
    status_snapshot,
    verify,
)

__all__ = [
    "checks",
    "codec",
    "cose_holder",
    "cose_qr",
    "holder",
    "issuer_signatures",
    "model",
    "nonces",
    "qr",
    "status_snapshot",
    "verify",
]
