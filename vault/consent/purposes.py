"""A grant's purpose in words: personal data (why a person let a department read their file),
so it is sealed under the subject's key like record bodies and correction reasons.

The subject signs the purpose as text (EIP-712 ``string``), but the consent registry receives
only its hash; the outbox, which relays the grant, keeps that hash and never the text.

Rows written before revision 0009 hold the text in clear. Sealing needs the subject's key,
hence the master key, which Alembic never sees (the ``alembic`` command line runs with only a
database URL); so the migration adds the sealed columns and :func:`seal_plaintext` seals the
old rows the next time the vault opens, and rewrites their queued chain writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.consent import text_hash
from keys import MasterKey, Sealed, open_sealed, seal
from vault import keyring
from vault.consent.read_facts import GrantFacts
from vault.db.grants import GrantRow
from vault.db.models import OutboxEntry

PURPOSE_HASH = "purposeHash"
# Codes offered to citizens (101 public services, 102 social security, 103 employment; for data
# users outside government 201 loan approval 贷款审批, 202 notarisation 公证; 199 other); any
# uint16 is valid.
LOAN_APPROVAL = 201
NOTARISATION = 202
OFFERED: tuple[int, ...] = (101, 102, 103, LOAN_APPROVAL, NOTARISATION, 199)


async def seal_onto(session: AsyncSession, master: MasterKey, row: GrantRow, purpose: str) -> None:
    kek = await keyring.active_key(session, master, row.subject_id)
    sealed = seal(purpose.encode("utf-8"), keyring.grant_purpose_aad(row.subject_id, row.id), kek)
    row.purpose, row.purpose_key, row.purpose_body = None, sealed.wrapped_key, sealed.body


def _open(row: GrantRow | GrantFacts, lookup: keyring.KekLookup) -> str | None:
    if row.purpose_key is None or row.purpose_body is None:
        # Not sealed yet (written before 0009, sealed at the next open), or None: erased with
        # the subject's file (vault.erasure).
        return row.purpose
    plain = open_sealed(
        Sealed(row.purpose_key, row.purpose_body),
        keyring.grant_purpose_aad(row.subject_id, row.id),
        lookup,
    )
    return plain.decode("utf-8")


async def purpose_of(
    master: MasterKey, session: AsyncSession, row: GrantRow | GrantFacts, lookup: keyring.KekLookup | None = None
) -> str | None:
    """The grant's purpose in words (None: erased); ``lookup``: the subject's keys, if already read."""
    if lookup is None:
        lookup = await keyring.lookup_for(session, master, row.subject_id)
    return _open(row, lookup)


async def purposes(master: MasterKey, session: AsyncSession, rows: Iterable[GrantRow]) -> dict[str, str | None]:
    """Grant id -> purpose in words (None: erased); each subject's keys are read once."""
    lookups: dict[str, keyring.KekLookup] = {}
    out: dict[str, str | None] = {}
    for row in rows:
        if row.subject_id not in lookups:
            lookups[row.subject_id] = await keyring.lookup_for(session, master, row.subject_id)
        out[row.id] = _open(row, lookups[row.subject_id])
    return out


def purpose_hash(terms: dict[str, Any]) -> bytes:
    """The purpose hash of an outbox grant payload, or of the terms an older payload holds
    (older still: the words)."""
    if PURPOSE_HASH in terms:
        return decode_hex(str(terms[PURPOSE_HASH]))
    return text_hash(str(terms["purpose"]))


async def seal_plaintext(sessions: async_sessionmaker[AsyncSession], master: MasterKey) -> int:
    """Seals purposes stored in clear and drops the words from queued grant payloads.

    Returns how many rows it rewrote; with nothing left to seal, each open costs two
    queries. On PostgreSQL the old row versions go at the next VACUUM."""
    async with sessions() as session:
        rows = list(await session.scalars(select(GrantRow).where(GrantRow.purpose.is_not(None))))
        # json.dumps' default separators: new payloads say '"purposeHash": ', old '"purpose": '.
        entries = list(
            await session.scalars(
                select(OutboxEntry).where(OutboxEntry.kind == "grant", OutboxEntry.payload.contains('"purpose": '))
            )
        )
        if not rows and not entries:
            return 0
        sqlite = (await session.connection()).dialect.name == "sqlite"
        if sqlite:
            # The freed cells and pages that held the words are zeroed, not just unlinked.
            await session.execute(text("PRAGMA secure_delete = ON"))
        for row in rows:
            assert row.purpose is not None
            await seal_onto(session, master, row, row.purpose)
        for entry in entries:
            payload = json.loads(entry.payload)
            words = payload["terms"].pop("purpose")
            payload["terms"][PURPOSE_HASH] = encode_hex(text_hash(str(words)))
            entry.payload = json.dumps(payload, sort_keys=True)
        await session.flush()
        if sqlite:
            await session.execute(text("PRAGMA secure_delete = OFF"))
        await session.commit()
        if sqlite:
            # Old page images in the write-ahead log go too (nothing else runs while a vault opens).
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return len(rows) + len(entries)
