"""Holders' side of presentations: choose a credential and the fields to show, sign, show.

The vault prepares the presentation from the sealed document (salts, leaves, proofs, the
issuer's batch signature) and returns what the holder's key must sign; the holder signs on
the phone (the vault never holds that key) and hands the signature back to get the text for
the QR code. Nothing is stored: the signed text is the presentation.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from keys import SignatureError, recover_typed_data
from vault.context import VaultContext
from vault.credentials import commitments, documents, records
from vault.credentials.header import CredentialHeader
from vault.db.models import AnchorBatch, Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent
from vault.presentations import codec as presentation_codec
from vault.presentations import issuer_signatures
from vault.presentations.model import (
    DEFAULT_TTL,
    MAX_TTL,
    NONCE_LEN,
    DisclosedField,
    Presentation,
    presentation_typed_data,
)

MIN_TTL = 30


@dataclass(frozen=True)
class Prepared:
    unsigned: str  # the encoded presentation without the holder's signature
    typed_data: dict[str, Any]  # what the holder signs (bytes values; see typed_data_json)
    presentation: Presentation


def parse_nonce(text: str | None) -> bytes:
    """A verifier's nonce (0x + 32 hex digits), or a fresh one when none is given."""
    if text is None:
        return secrets.token_bytes(NONCE_LEN)
    try:
        raw = decode_hex(text) if isinstance(text, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != NONCE_LEN:
        raise VaultValueError(f"nonce must be 0x + {NONCE_LEN * 2} hex digits", field="nonce")
    return raw


def check_ttl(ttl: int) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        raise VaultValueError(f"a presentation lives {MIN_TTL}-{MAX_TTL} seconds", field="ttl")
    return ttl


async def prepare(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    record_id: str,
    fields: list[str],
    nonce: bytes,
    now: int,
    ttl: int = DEFAULT_TTL,
) -> Prepared:
    row = await records.latest(session, record_id)
    if row.subject_id != subject_id:
        raise NotFoundError("record", record_id)  # as for a missing record
    if row.status in ("revoked", "revoking"):
        raise ConflictError("this credential is revoked; a revoked credential cannot be shown")
    if row.status != "anchored" or row.batch_root is None or row.proof is None:
        raise ConflictError(f"this credential is {row.status}, not anchored yet; show it once it is anchored (seconds)")
    batch = await session.get(AnchorBatch, row.batch_root)
    document = await records.decrypt(ctx, session, row)
    if document.get("version") != 2 or batch is None or batch.issuer_signature is None:
        raise ConflictError(
            "this credential was issued before fields could be shown one by one; "
            "ask the issuer to issue it again (a correction does)"
        )
    shown = _check_fields(document, fields)
    leaves = documents.leaves(document)
    salts = {name: bytes.fromhex(s) for name, s in document["salts"].items()}
    header = CredentialHeader.from_document(document)
    header_leaf = header.leaf(salts[commitments.HEADER_NAME])
    disclosed = tuple(
        DisclosedField(
            leaves.index(commitments.field_leaf(n, document["fields"][n], salts[n])), n, document["fields"][n], salts[n]
        )
        for n in shown
    )
    positions = [leaves.index(header_leaf), *(f.index for f in disclosed)]
    presentation = Presentation(
        header=header,
        header_index=positions[0],
        header_salt=salts[commitments.HEADER_NAME],
        leaf_count=len(leaves),
        fields=tuple(sorted(disclosed, key=lambda f: f.index)),
        field_proof=tuple(commitments.multiproof(leaves, positions)),
        batch_proof=tuple(decode_hex(p) for p in json.loads(row.proof)),
        issuer_signature=decode_hex(batch.issuer_signature),
        nonce=nonce,
        created_at=now,
        expires_at=now + check_ttl(ttl),
        credential=decode_hex(row.credential_hash),
    )
    await ctx.events.emit(
        session,
        VaultEvent(
            "credential.presented",
            "ok",
            now,
            "subject",
            subject_id,
            subject_id=subject_id,
            record_types=(row.type,),
            record_ids=(row.id,),
            fields=tuple(shown),
        ),
    )
    typed = presentation_typed_data(issuer_signatures.credential_domain(ctx), presentation)
    return Prepared(presentation_codec.encode(presentation), typed, presentation)


def _check_fields(document: dict[str, Any], fields: list[str]) -> list[str]:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise VaultValueError("fields must be a list of field names", field="fields")
    unknown = sorted(set(fields) - set(document["fields"]))
    if unknown:
        raise VaultValueError(f"the credential has no field {', '.join(unknown)}", field="fields")
    return sorted(set(fields))


@dataclass(frozen=True)
class Signed:
    text: str  # what the QR code holds
    presentation: Presentation


async def finish(ctx: VaultContext, session: AsyncSession, *, subject_id: str, unsigned: str, signature: str) -> Signed:
    """The signed presentation, once the signature is the subject's own."""
    presentation = presentation_codec.decode(unsigned)
    if presentation.header.subject != subject_id.lower():
        raise PermissionDeniedError("this presentation is of another subject's credential")
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    typed = presentation_typed_data(issuer_signatures.credential_domain(ctx), presentation)
    try:
        signer = recover_typed_data(typed, signature)
    except SignatureError as exc:
        raise VaultValueError(str(exc), field="signature") from None
    if signer != to_checksum_address(subject.auth_address):
        raise VaultValueError(
            "the signature is not by your key; sign the typed data the vault prepared", field="signature"
        )
    signed = presentation.signed(decode_hex(signature))
    return Signed(presentation_codec.encode(signed), signed)
