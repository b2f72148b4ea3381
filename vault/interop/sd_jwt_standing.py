"""Where an SD-JWT VC stands on chain and in the vault: its anchor, its holder's current key
and whether it is revoked. Called by ``sd_jwt_verify`` once the issuer's signature holds, so
that no unverified value reaches a query (the anchor's fixed-size hashes aside)."""

from __future__ import annotations

from typing import Any

from eth_utils.hexadecimal import decode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.registry import AnchorStatus
from chain.view import queries
from vault.context import VaultContext
from vault.credentials import checks, records
from vault.credentials.checks import Check
from vault.db.models import Department, Record

# Status indexes are what the vault hands out: below 2**40, as in a credential's header.
MAX_STATUS_INDEX = 2**40


def anchor_facts(payload: dict[str, Any]) -> tuple[int, str, bytes, list[bytes]] | None:
    a = payload.get("anchor")
    try:
        assert isinstance(a, dict) and type(a["chain_id"]) is int and isinstance(a["registry"], str)
        leaf, proof = decode_hex(a["credential_hash"]), [decode_hex(p) for p in a["proof"]]
        assert len(leaf) == 32 and all(len(p) == 32 for p in proof) and len(proof) <= 64
    except (AssertionError, KeyError, TypeError, ValueError):
        return None
    return a["chain_id"], a["registry"], leaf, proof


async def anchor(
    ctx: VaultContext, payload: dict[str, Any], dept: Department | None
) -> tuple[Check, AnchorStatus | None]:
    name = "batch_inclusion"
    facts = anchor_facts(payload)
    if facts is None:
        return Check(
            name, False, "no chain anchor (chain_id, registry, credential_hash, proof) in the credential"
        ), None
    chain_id, registry, leaf, proof = facts
    if chain_id != ctx.chain.chain_id() or registry.lower() != ctx.chain.client.address.lower():
        return Check(name, False, "anchored on another chain or registry than this vault's"), None
    (status,) = await ctx.chain.view.read(queries.credential_status(ctx.chain.client, leaf, proof))
    if not status.anchored or status.issuer is None:
        return Check(name, False, "the credential hash leads to no batch anchored on chain"), None
    if dept is None or status.issuer.lower() != dept.chain_address.lower():
        return Check(name, False, "the batch was anchored by another department than the one that signed"), None
    return Check(name, True, "the credential is in a batch its issuer anchored on chain"), status


async def current_key(ctx: VaultContext, session: AsyncSession, payload: dict[str, Any]) -> str | None:
    """The key the consent registry lists now for the subject of the (verified, anchored)
    credential, read through the chain view as for ``DV1:``; None when none is."""
    facts = anchor_facts(payload)
    row = await records.by_hash(session, "0x" + facts[2].hex()) if facts else None
    if row is None or ctx.chain.consent is None:
        return None
    (holder,) = await ctx.chain.view.read(queries.subject_key(ctx.chain.consent, decode_hex(row.subject_id)))
    key: str | None = holder.key
    return key


def status_index(payload: dict[str, Any]) -> int | None:
    status = payload.get("status")
    listed = status.get("status_list") if isinstance(status, dict) else None
    idx = listed.get("idx") if isinstance(listed, dict) else None
    # A status index is what the vault hands out: small and not negative. Anything else is no
    # index (and must not reach the database as a 64-bit integer it cannot hold).
    return idx if type(idx) is int and 0 <= idx < MAX_STATUS_INDEX else None


async def erased(session: AsyncSession, payload: dict[str, Any]) -> Check | None:
    """A failed ``not_erased`` if the vault erased the credential's data; None otherwise (the
    check appears only when it fails, as for ``DV1:`` and ``DC1:``)."""
    facts = anchor_facts(payload)
    when = (await records.standing_by_hash(session, "0x" + facts[2].hex())).erased_at if facts else None
    return checks.erased_check(when) if when is not None else None


async def not_revoked(session: AsyncSession, payload: dict[str, Any], status: AnchorStatus | None) -> Check:
    """``status``: the anchor's, given only once the issuer's signature and the anchor hold."""
    facts = anchor_facts(payload)
    if status is None or facts is None:
        return Check("not_revoked", False, "not checked: the credential's signature or anchor does not hold")
    here = (await records.standing_by_hash(session, "0x" + facts[2].hex())).status
    idx = status_index(payload)
    # The status list's bit for idx (what /status/token-list publishes), read at its source.
    bit = await session.scalar(select(Record.status).where(Record.status_index == idx)) if idx is not None else None
    # Deny wins: a revocation the vault has queued counts before the chain confirms it.
    if status.revoked or here in ("revoked", "revoking") or bit in ("revoked", "revoking"):
        return Check("not_revoked", False, "the issuer revoked this credential")
    return Check("not_revoked", True, "not revoked")
