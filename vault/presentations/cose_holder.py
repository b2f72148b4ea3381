"""Holders' side of ``DC1:`` presentations (``cose_qr``): the same prepare, sign, show as ``DV1:``.

The vault prepares the presentation as for DV1 (``holder.prepare``), wraps it in a CWT and
returns it with the COSE Sig_structure its ES256K key signs; the holder signs on the phone
(the vault never holds that key; the CLI signs with the ``cwt`` library from the CWT itself)
and hands the 64-byte signature back for the text of the QR code.

The CWT names the holder's public key (``cnf``), which the vault does not know (the registry
keeps an address): the holder sends it as a JWK with the request, and it must be the key
the vault knows the holder by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from keys import address_of_public_key
from vault.context import VaultContext
from vault.db.models import Subject
from vault.errors import NotFoundError, PermissionDeniedError, VaultValueError
from vault.presentations import cose_qr, holder, issuer_signatures
from vault.presentations.cose_qr import CosePresentation
from vault.presentations.model import DEFAULT_TTL


@dataclass(frozen=True)
class CosePrepared:
    unsigned: str  # the DC1 text, signature empty
    to_be_signed: bytes  # RFC 9052 Sig_structure
    external_aad: bytes  # in it: the deployment (credential domain), never sent
    presentation: CosePresentation


def _holder_key(public_key: Any, subject: Subject) -> bytes:
    """x and y of the holder's JWK, once its address is the one the vault knows the holder by."""
    point = cose_qr.point_of_jwk(public_key)
    if address_of_public_key(point[:32], point[32:]) != to_checksum_address(subject.auth_address):
        raise VaultValueError("not your key: send the JWK of the key you sign in with", field="public_key")
    return point


async def _subject(session: AsyncSession, subject_id: str) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    return subject


async def prepare(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    record_id: str,
    fields: list[str],
    nonce: bytes,
    now: int,
    public_key: Any,
    issuer_id: Callable[[str], str] | None = None,
    ttl: int = DEFAULT_TTL,
) -> CosePrepared:
    """As ``holder.prepare``; ``issuer_id`` makes ``iss`` of the issuer's code (the API gives
    ``vault.interop.urls.issuer_id`` at its public URL); without it ``iss`` is the code."""
    # The record first (another subject's is "not found", as for DV1), then the key; a refusal
    # rolls back the "presented" event with the rest of the transaction.
    prepared = await holder.prepare(
        ctx, session, subject_id=subject_id, record_id=record_id, fields=fields, nonce=nonce, now=now, ttl=ttl
    )
    key = _holder_key(public_key, await _subject(session, subject_id))
    code = prepared.presentation.header.issuer_code
    iss = issuer_id(code) if issuer_id else code
    cose = cose_qr.unsigned(prepared.presentation, issuer_id=iss, holder_key=key)
    domain = issuer_signatures.credential_domain(ctx)
    return CosePrepared(cose.text(), cose.to_be_signed(domain), cose_qr.external_aad(domain), cose)


async def finish(
    ctx: VaultContext, session: AsyncSession, *, subject_id: str, unsigned: str, signature: str
) -> holder.Signed:
    """The signed DC1 presentation, once the COSE signature verifies with the subject's key."""
    presentation = cose_qr.decode(unsigned)
    if presentation.header.subject != subject_id.lower():
        raise PermissionDeniedError("this presentation is of another subject's credential")
    subject = await _subject(session, subject_id)
    try:
        raw = decode_hex(signature) if isinstance(signature, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 64:
        raise VaultValueError("signature must be 0x + 128 hex digits (ES256K: r then s)", field="signature")
    signed = presentation.with_signature(raw)
    signer = signed.signer(issuer_signatures.credential_domain(ctx))
    if signer is None or signer != to_checksum_address(subject.auth_address):
        raise VaultValueError(
            "the signature is not by your key over this presentation; sign the Sig_structure the vault prepared",
            field="signature",
        )
    return holder.Signed(signed.text(), signed)
