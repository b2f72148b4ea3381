"""Verifying a credential against the chain, without paper and without trusting the vault.

The answer is a list of named checks, each passed or failed with a reason a clerk can read;
the credential is valid only if every check passes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from chain.view import queries
from vault.context import VaultContext
from vault.credentials import records
from vault.credentials.checks import Check, erased_check, sm2_check
from vault.credentials.documents import credential_hash, parse_document
from vault.db.models import AnchorBatch, Department
from vault.errors import VaultValueError
from vault.events import VaultEvent
from vault.ids import Hash32

_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass
class Verdict:
    valid: bool
    credential_hash: Hash32 | None  # None: the document is too damaged to hash
    checks: list[Check] = field(default_factory=list)
    root: Hash32 | None = None
    issuer_address: str | None = None
    issuer_code: str | None = None
    issuer_name: str | None = None
    issued_at: int | None = None
    valid_from: int | None = None
    valid_until: int | None = None
    revoked_at: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    sm2_signature: str | None = None  # sm suite: the issuer's SM2 signature of the batch root


def check_hash(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise VaultValueError(f"{field_name} must be 0x + 64 hex digits", field=field_name)
    return value.lower()


def check_proof(proof: Any) -> list[str]:
    if not isinstance(proof, list) or len(proof) > 64:
        raise VaultValueError("proof must be a list of at most 64 hashes", field="proof")
    return [check_hash(p, "proof") for p in proof]


async def verify_document(
    ctx: VaultContext, session: AsyncSession, document: Any, proof: list[Any] | None, now: int
) -> Verdict:
    # A presented document that lost, gained or retyped a key is tampered with like any other:
    # the answer is a verdict naming the check, not a refusal of the request.
    try:
        doc = parse_document(document)
        leaf = credential_hash(doc)
        if proof is not None:
            proof = check_proof(proof)
    except VaultValueError as exc:
        verdict = Verdict(valid=False, credential_hash=None, checks=[Check("format", False, exc.reason)])
        await _trace(ctx, session, verdict, now)
        return verdict
    verdict = await _verify_hash(ctx, session, leaf, proof, now)
    claimed = str(doc["issuer"]["address"])
    if verdict.issuer_address is not None:
        same = claimed.lower() == verdict.issuer_address.lower()
        verdict.checks.append(
            Check(
                "issuer_matches",
                same,
                "the document names the department that anchored it"
                if same
                else "the document names a different issuer than the one that anchored it",
            )
        )
    in_window = doc["valid_from"] <= now < doc["valid_until"]
    verdict.checks.append(
        Check("document_validity", in_window, _window_reason(doc["valid_from"], doc["valid_until"], now))
    )
    verdict.valid = all(c.passed for c in verdict.checks)
    await _trace(ctx, session, verdict, now)
    return verdict


async def verify_hash(
    ctx: VaultContext, session: AsyncSession, hash_: str, proof: list[str] | None, now: int
) -> Verdict:
    verdict = await _verify_hash(ctx, session, hash_, proof, now)
    await _trace(ctx, session, verdict, now)
    return verdict


async def _trace(ctx: VaultContext, session: AsyncSession, verdict: Verdict, now: int) -> None:
    """A verification of a credential this vault holds is an access to its subject's file."""
    row = await records.by_hash(session, verdict.credential_hash) if verdict.credential_hash else None
    failed = [c.name for c in verdict.checks if not c.passed]
    await ctx.events.emit(
        session,
        VaultEvent(
            "credential.verified",
            "ok" if verdict.valid else "refused",
            now,
            "public",
            "public",
            subject_id=row.subject_id if row is not None else None,
            record_types=(row.type,) if row is not None else (),
            record_ids=(row.id,) if row is not None else (),
            reason="valid" if verdict.valid else "failed checks: " + ", ".join(failed),
        ),
    )


async def _verify_hash(
    ctx: VaultContext, session: AsyncSession, hash_: str, proof: list[str] | None, now: int
) -> Verdict:
    leaf = check_hash(hash_, "credential_hash")
    verdict = Verdict(valid=False, credential_hash=Hash32(leaf))
    if proof is None:
        # Convenience: the vault knows the proof of credentials it issued itself.
        row = await records.by_hash(session, leaf)
        if row is None or row.proof is None:
            verdict.checks.append(
                Check(
                    "anchored",
                    False,
                    "no anchor is known for this credential: it was altered, never issued, or is still pending",
                )
            )
            return verdict
        proof = json.loads(row.proof)
    proof = check_proof(proof)
    chain = ctx.chain
    # As of the chain's latest block, from the local view (``chain.view``): the anchor, then
    # its issuer at the same block.
    (status,) = await chain.view.read(
        queries.credential_status(chain.client, decode_hex(leaf), [decode_hex(p) for p in proof])
    )
    verdict.root = Hash32(encode_hex(status.root))
    if not status.anchored or status.issuer is None:
        verdict.checks.append(
            Check(
                "anchored",
                False,
                "the chain holds no such credential: it was altered, never issued, or is still pending",
            )
        )
        return verdict
    verdict.checks.append(Check("anchored", True, "the credential's hash is anchored on chain"))
    erased = (await records.standing_by_hash(session, leaf)).erased_at
    if erased is not None:
        verdict.checks.append(erased_check(erased))
    verdict.issuer_address = status.issuer
    verdict.issued_at, verdict.valid_from, verdict.valid_until = status.issued_at, status.valid_from, status.valid_until
    verdict.revoked_at = status.revoked_at or None
    (info,) = await chain.view.known(queries.department(chain.client, status.issuer))
    dept = await session.get(Department, _code(info.code)) if info is not None else None
    if dept is not None:
        verdict.issuer_code, verdict.issuer_name = dept.code, dept.name
    # Deactivation withdraws trust in everything the department anchored (its key may be
    # lost); a successor re-issues. Presentations follow the same rule (issuer_active).
    is_issuer = info is not None and bool(info.roles & 1)
    active = is_issuer and info is not None and info.active
    reason = (
        "anchored by a registered issuing department"
        if active
        else "the issuing department has been deactivated: its credentials are no longer trusted"
        if is_issuer
        else "the anchoring account is not a registered issuer"
    )
    verdict.checks.append(Check("issuer_registered", active, reason))
    verdict.checks.append(
        Check(
            "not_revoked",
            not status.revoked,
            "not revoked" if not status.revoked else "the issuer revoked this credential",
        )
    )
    verdict.checks.append(
        Check(
            "anchor_validity",
            status.valid_from <= now < status.valid_until,
            _window_reason(status.valid_from, status.valid_until, now),
        )
    )
    batch = await session.get(AnchorBatch, verdict.root)
    if batch is not None:
        verdict.tx_hash, verdict.block_number = batch.tx_hash, batch.block_number
        verdict.sm2_signature = batch.sm2_signature
    sm2 = await sm2_check(ctx, session, encode_hex(status.root), status.issuer, batch)
    if sm2 is not None:
        verdict.checks.append(sm2)
    verdict.valid = all(c.passed for c in verdict.checks)
    return verdict


def _code(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode(errors="replace")


def _window_reason(start: int, end: int, now: int) -> str:
    if now < start:
        return "not yet valid"
    if now >= end:
        return "expired"
    return "within its validity period"


def checksum(address: str) -> str:
    return str(to_checksum_address(address))
