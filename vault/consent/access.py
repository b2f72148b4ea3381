"""A department reads a subject's data under a grant: exactly the granted record types and
field paths, one counted use per read that discloses something (a read that finds nothing
costs the grant nothing), and a refusal with a reason for anything else.

Every outcome is announced (``vault.events``): a use inside the read's transaction, so it is
recorded exactly when the data leaves; a refusal in a transaction of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_bits, record_type_names
from vault import keyring
from vault.consent import grants, read_facts
from vault.consent import purposes as grant_purposes
from vault.consent.disclosure import check_paths
from vault.consent.disclosure import select as select_fields
from vault.consent.read_facts import GrantFacts, ReadFacts
from vault.context import VaultContext
from vault.credentials import holdings
from vault.errors import AccessRefused, NotFoundError, VaultValueError


@dataclass(frozen=True)
class DisclosedRecord:
    id: str
    version: int
    type: str
    title: str
    issuer: str
    valid_from: int
    valid_until: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class Disclosure:
    grant_id: str
    subject_id: str
    purpose_code: int
    purpose: str
    uses: int
    max_uses: int
    records: list[DisclosedRecord]


def _within(path: str, granted: tuple[str, ...]) -> bool:
    return any(path == g or path.startswith(g + ".") for g in granted)


def _why_unusable(row: GrantFacts, now: int) -> tuple[str, str] | None:
    status = grants.status_at(row, now)
    reasons = {
        "revoked": "this grant is revoked: the subject revoked it, or its file was erased",
        "pending": "this grant is not anchored on chain yet",
        "failed": "the chain refused this grant",
        "expired": "this grant has expired",
        "exhausted": "this grant's uses are all spent",
        "not_yet_valid": "this grant is not valid yet",
    }
    return (status, reasons[status]) if status in reasons else None


async def read(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    department: str,
    official: str,
    grant_id: str,
    facts: ReadFacts,
    record_types: list[str] | None,
    fields: list[str] | None,
    now: int,
) -> Disclosure:
    """``department``'s read of ``grant_id``; ``facts``: what ``read_facts.load`` found for it
    in this transaction (the token and the department already checked)."""
    row = facts.grant
    if row is None:
        raise NotFoundError("grant", grant_id)

    async def refuse(code: str, reason: str) -> AccessRefused:
        event = grants.event(
            row,
            "grant.refused",
            "refused",
            now,
            actor_role="department",
            actor=department,
            official=official,
            reason=code,
        )
        # Nothing of this request is kept, and its locks must go before the refusal is written
        # in a transaction of its own (SQLite: a refused UPDATE already holds the write lock).
        await session.rollback()
        await ctx.events.emit_refusal(ctx.sessions, event)
        return AccessRefused(code, reason)

    if row.grantee_code != department:
        raise await refuse("wrong_department", "this grant was given to another department")
    unusable = _why_unusable(row, now)
    if unusable is not None:
        raise await refuse(*unusable)
    granted_paths = tuple(json.loads(row.fields))
    try:
        wanted_bits = record_type_bits(record_types) if record_types else row.record_types
        wanted_paths = check_paths(fields) if fields else granted_paths
    except (ValueError, VaultValueError) as exc:
        raise await refuse("malformed_request", str(exc)) from None
    if wanted_bits & ~row.record_types:
        outside = ", ".join(record_type_names(wanted_bits & ~row.record_types))
        raise await refuse("type_outside_scope", f"record type {outside} is outside this grant")
    outside_paths = [p for p in wanted_paths if not _within(p, granted_paths)]
    if outside_paths:
        raise await refuse("field_outside_scope", f"field {', '.join(outside_paths)} is outside this grant")
    # The subject's keys came with the grant; opened lazily, for the records and the purpose.
    lookup = keyring.lookup_over(ctx.master, row.subject_id, facts.keys)
    disclosed = _disclose(row.subject_id, facts.records, wanted_bits, wanted_paths, lookup)
    # None only for a file erased since (its grants are revoked): nothing is disclosed then.
    purpose = await grant_purposes.purpose_of(ctx.master, session, row, lookup) or ""
    if not disclosed:
        # Nothing leaves, so nothing is spent: the read is logged, the grant keeps its uses.
        await ctx.events.emit(
            session,
            grants.event(
                row,
                "grant.read_empty",
                "ok",
                now,
                actor_role="department",
                actor=department,
                official=official,
                reason="nothing disclosed: no record of the granted types holds these fields; no use counted",
            ),
        )
        return Disclosure(
            row.id,
            row.subject_id,
            row.purpose_code,
            purpose,
            row.uses,
            row.max_uses,
            [],
        )
    uses = await grants.count_use(session, row.id, now)
    if uses is None:
        # Another read took the last use (or a revocation landed) since we looked.
        now_held = await read_facts.grant_again(session, row.id)
        why = _why_unusable(now_held, now) if now_held is not None else None
        raise await refuse(*(why or ("exhausted", "this grant's uses are all spent")))
    row.uses = uses
    await ctx.events.emit(
        session,
        grants.event(
            row,
            "grant.used",
            "ok",
            now,
            actor_role="department",
            actor=department,
            official=official,
            record_ids=tuple(r.id for r in disclosed),
        ),
    )
    return Disclosure(
        row.id,
        row.subject_id,
        row.purpose_code,
        purpose,
        row.uses,
        row.max_uses,
        disclosed,
    )


def _disclose(
    subject_id: str,
    records: list[holdings.Holding],
    bits: int,
    paths: tuple[str, ...],
    lookup: keyring.KekLookup,
) -> list[DisclosedRecord]:
    """``records``: the grant's (every type it covers); those of the types in ``bits`` are
    opened, as ``holdings.latest`` would for them."""
    names = record_type_names(bits)
    out = []
    for row, document in holdings.opened(subject_id, (r for r in records if r.type in names), lookup):
        selected = select_fields(document.get("fields", {}), paths)
        if not selected:
            continue  # a record with none of the granted fields is not disclosed at all
        out.append(
            DisclosedRecord(
                id=row.id,
                version=row.version,
                type=row.type,
                title=str(document.get("title", "")),
                issuer=row.issuer_code,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                fields=selected,
            )
        )
    return out
