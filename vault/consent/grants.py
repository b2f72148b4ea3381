"""Grants (授权): prepared by the vault, signed by the subject or a delegate, relayed to the
consent registry, and enforced on every read.

The vault cannot invent consent: a grant is accepted only with a signature that recovers to
the subject's current key (or an authorised delegate's), and the consent registry checks the
same signature again on chain. A grant is usable once anchored; a revocation takes effect
the moment the vault receives it (deny wins), before it is mined.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import bindparam, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import GrantTerms, grant_id, grant_typed_data, record_type_names, text_hash
from keys import SignatureError, recover_typed_data_digest
from vault import outbox, pages
from vault.consent import purposes as grant_purposes
from vault.consent.read_facts import GrantFacts
from vault.consent.receipts import STATUSES, receipt, status_at
from vault.consent.terms import (
    MAX_PURPOSE,
    MAX_USES,
    GrantRequest,
    authorise,
    check_issued,
    check_terms,
    find_grantee,
    refuse_erased,
    subject_bytes,
    terms_from_message,
    terms_of,
)
from vault.consent.typed_data import MAX_SAFE_NONCE, domain, typed_data_json
from vault.context import OPERATOR, VaultContext
from vault.db.grants import GrantRow
from vault.db.models import Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent

# The terms and who may sign them (``vault.consent.terms``) and what the subject sees of a grant
# (``vault.consent.receipts``) are modules of their own; their names are kept here too.
__all__ = [
    "MAX_PURPOSE",
    "MAX_USES",
    "STATUSES",
    "GrantRequest",
    "authorise",
    "count_use",
    "event",
    "get_for_subject",
    "grantees_using",
    "list_for_department",
    "list_for_subject",
    "outbox_payload",
    "page_for_department",
    "page_for_subject",
    "prepare",
    "receipt",
    "status_at",
    "submit",
    "terms_from_message",
    "terms_of",
]


async def prepare(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    req: GrantRequest,
    now: int,
    signer: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The grant's id and the EIP-712 typed data the subject (or a delegate) signs.

    With ``signer``, terms that key could not sign (an agent outside its delegation) are
    refused now, before anyone signs something bound to be refused."""
    bits, paths = check_terms(
        req.record_types, req.fields, req.purpose_code, req.purpose, req.not_before, req.expires_at, req.max_uses, now
    )
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    refuse_erased(subject)
    if signer is not None:
        await authorise(session, subject_id, signer, bits, req.expires_at, now)
    grantee = await find_grantee(session, code=req.grantee)
    if not req.allow_unissued_fields:
        await check_issued(ctx, session, subject_id, bits, paths)
    terms = GrantTerms(
        subject=subject_bytes(subject_id),
        grantee=grantee.chain_address,
        record_types=bits,
        fields=paths,
        purpose_code=req.purpose_code,
        purpose=req.purpose,
        not_before=req.not_before,
        expires_at=req.expires_at,
        max_uses=req.max_uses,
        nonce=1 + secrets.randbelow(MAX_SAFE_NONCE),
    )
    return encode_hex(grant_id(terms.subject, terms.nonce)), typed_data_json(grant_typed_data(domain(ctx), terms))


def outbox_payload(row: GrantRow, terms: GrantTerms) -> dict[str, Any]:
    """What the outbox keeps to relay a grant: its id (the terms are the row's), the signature,
    and the purpose's hash: the row holds the words sealed, and the relayer needs only the hash."""
    return {
        "grant_id": row.id,
        "signature": row.signature,
        grant_purposes.PURPOSE_HASH: encode_hex(text_hash(terms.purpose)),
    }


async def submit(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    message: Any,
    signature: str,
    now: int,
) -> GrantRow:
    terms = terms_from_message(message)
    if encode_hex(terms.subject) != subject_id:
        raise PermissionDeniedError("this grant is for another subject")
    bits, paths = check_terms(
        terms.record_types,
        terms.fields,
        terms.purpose_code,
        terms.purpose,
        terms.not_before,
        terms.expires_at,
        terms.max_uses,
        now,
    )
    if paths != terms.fields:
        raise VaultValueError("field paths must be distinct", field="fields")
    grantee = await find_grantee(session, address=terms.grantee)
    try:
        signer, digest = recover_typed_data_digest(grant_typed_data(domain(ctx), terms), signature)
    except SignatureError:
        raise VaultValueError("the signature is malformed", field="signature") from None
    role = await authorise(session, subject_id, signer, bits, terms.expires_at, now)
    gid = encode_hex(grant_id(terms.subject, terms.nonce))
    if await session.get(GrantRow, gid) is not None:
        raise ConflictError("this grant's nonce was already used; prepare a new grant")
    row = GrantRow(
        id=gid,
        subject_id=subject_id,
        nonce=terms.nonce,
        grantee_code=grantee.code,
        grantee_address=grantee.chain_address,
        record_types=bits,
        fields=json.dumps(list(paths), ensure_ascii=False),
        purpose_code=terms.purpose_code,
        not_before=terms.not_before,
        expires_at=terms.expires_at,
        max_uses=terms.max_uses,
        uses=0,
        signer=signer,
        signature=signature,
        digest=encode_hex(digest),
        status="pending",
        created_at=now,
    )
    await grant_purposes.seal_onto(session, ctx.master, row, terms.purpose)
    session.add(row)
    outbox.enqueue(session, "grant", OPERATOR, outbox_payload(row, terms), now)
    await session.flush()
    # An agent's grant is logged as the agent's: the subject's access log says who signed.
    await ctx.events.emit(session, event(row, "grant.created", "ok", now, actor_role=role, actor=signer))
    return row


def event(
    row: GrantRow | GrantFacts,
    action: str,
    outcome: str,
    now: int,
    *,
    actor_role: str,
    actor: str,
    official: str | None = None,
    record_ids: tuple[str, ...] = (),
    reason: str | None = None,
) -> VaultEvent:
    return VaultEvent(
        action=action,
        outcome="ok" if outcome == "ok" else "refused",
        at=now,
        actor_role=actor_role,
        actor=actor,
        official=official,
        subject_id=row.subject_id,
        grant_id=row.id,
        record_types=tuple(record_type_names(row.record_types)),
        fields=tuple(json.loads(row.fields)),
        record_ids=record_ids,
        purpose_code=row.purpose_code,
        reason=reason,
    )


async def get_for_subject(session: AsyncSession, subject_id: str, gid: str) -> GrantRow:
    row = await session.get(GrantRow, gid.lower())
    if row is None or row.subject_id != subject_id:
        raise NotFoundError("grant", gid)
    return row


async def list_for_subject(session: AsyncSession, subject_id: str) -> list[GrantRow]:
    rows = await session.scalars(
        select(GrantRow).where(GrantRow.subject_id == subject_id).order_by(GrantRow.created_at, GrantRow.id)
    )
    return list(rows)


# The mask of every bit a record-type column may hold (INTEGER: 31 bits and the sign).
_TYPE_BITS = 2**31 - 1


async def page_for_subject(
    session: AsyncSession,
    subject_id: str,
    *,
    covering: int | None = None,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[GrantRow]:
    """One page of the grants the subject gave, oldest first (newest first with ``newest``, as
    the pages list them), and how many there are. With
    ``covering`` (a delegation's record-type bits), only the grants over record types all
    within it (none typeless), as a delegate may see them: filtered in the query, so the
    total counts what the delegate sees."""
    where = [GrantRow.subject_id == subject_id]
    if covering is not None:
        where += [GrantRow.record_types != 0, GrantRow.record_types.op("&")(_TYPE_BITS & ~covering) == 0]
    return await pages.keyset(
        session, GrantRow, where, [GrantRow.created_at, GrantRow.id], "grants", after=after, limit=limit, newest=newest
    )


async def page_for_department(
    session: AsyncSession,
    code: str,
    *,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[GrantRow]:
    """One page of the grants the department holds, oldest first (newest first with
    ``newest``), and how many there are."""
    return await pages.keyset(
        session,
        GrantRow,
        [GrantRow.grantee_code == code],
        [GrantRow.created_at, GrantRow.id],
        "held-grants",
        after=after,
        limit=limit,
        newest=newest,
    )


async def grantees_using(session: AsyncSession, subject_id: str, now: int) -> int:
    """How many departments hold a grant of the subject's that is in force at ``now`` (what
    ``receipts.status_at`` calls active): one ``COUNT(DISTINCT)``, no rows loaded."""
    found = await session.scalar(
        select(func.count(distinct(GrantRow.grantee_code))).where(
            GrantRow.subject_id == subject_id,
            GrantRow.status == "active",
            GrantRow.expires_at > now,
            GrantRow.uses < GrantRow.max_uses,
            GrantRow.not_before <= now,
        )
    )
    return int(found or 0)


async def list_for_department(session: AsyncSession, code: str) -> list[GrantRow]:
    rows = await session.scalars(
        select(GrantRow).where(GrantRow.grantee_code == code).order_by(GrantRow.created_at, GrantRow.id)
    )
    return list(rows)


async def count_use(session: AsyncSession, gid: str, now: int) -> int | None:
    """Takes one use, atomically: of N concurrent readers of a grant with M uses left, M win.
    Returns the uses now counted, or None if none was left to take (or the grant is no longer
    usable); the database says which in the same statement, so no second read is needed."""
    taken = await session.scalar(_COUNT_USE, {"gid": gid, "now": now})
    return None if taken is None else int(taken)


# Built once over the table (no ORM session synchronisation: the caller sets the count it got).
_g = GrantRow.metadata.tables[GrantRow.__tablename__]
_COUNT_USE = (
    update(_g)
    .where(
        _g.c.id == bindparam("gid"),
        _g.c.status == "active",
        _g.c.uses < _g.c.max_uses,
        _g.c.not_before <= bindparam("now"),
        _g.c.expires_at > bindparam("now"),
    )
    .values(uses=_g.c.uses + 1)
    .returning(_g.c.uses)
)
