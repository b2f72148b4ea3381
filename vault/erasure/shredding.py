"""Crypto-shredding: destroying the keys that open a subject's data, and emptying the columns
that held its ciphertexts.

Destroying the keys is what makes erasure final: a ciphertext without its key is noise, in
the live database and in any copy of it. Emptying the columns as well means the bytes are
not left lying about either (SQLite runs with ``secure_delete``, so the old cells are zeroed
in the file; ``vault.erasure.storage`` then empties the WAL).

One record: its rows are emptied, then the subject's key is rotated (every other sealed
value is rewrapped under a new version) and every older version destroyed, so that the
erased record's data key, wherever a copy of it survives, has no key left to open it.
Whole file: every key version is destroyed and every sealed column emptied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import MasterKey
from vault import keyring
from vault.db.corrections import CorrectionRow
from vault.db.grants import GrantRow
from vault.db.models import Record, SubjectKey


def _close(correction: CorrectionRow, now: int) -> None:
    # An open request about erased data has nothing left to decide.
    if correction.status == "requested":
        correction.status, correction.decided_at = ERASED, now


def _empty(row: object, part: keyring.SealedPart) -> None:
    nullable = bool(type(row).__table__.c[part.key_column].nullable)  # type: ignore[attr-defined]
    setattr(row, part.key_column, None if nullable else b"")
    setattr(row, part.body_column, None if nullable else b"")


ERASED = "erased"  # a correction request closed because its record was erased


@dataclass(frozen=True)
class Shredded:
    records: list[Record]  # the rows erased (now empty, ``erased_at`` set)
    destroyed_keys: list[int]  # the subject's KEK versions destroyed


async def _versions(session: AsyncSession, subject_id: str, below: int | None = None) -> list[int]:
    query = select(SubjectKey.version).where(SubjectKey.subject_id == subject_id)
    if below is not None:
        query = query.where(SubjectKey.version < below)
    return sorted(int(v) for v in await session.scalars(query))


async def shred_record(session: AsyncSession, master: MasterKey, subject_id: str, record_id: str, now: int) -> Shredded:
    """Erase every version of one record."""
    rows = list((await session.scalars(select(Record).where(Record.id == record_id).order_by(Record.version))).all())
    for row in rows:
        row.wrapped_key, row.body, row.erased_at = b"", b"", now
    # Corrections of the record seal the values asked for and the issuer's note: the same data.
    corrections = await session.scalars(
        select(CorrectionRow).where(CorrectionRow.subject_id == subject_id, CorrectionRow.record_id == record_id)
    )
    for correction in corrections.all():
        correction.wrapped_key, correction.body = b"", b""
        correction.note_key, correction.note_body = None, None
        _close(correction, now)
    await session.flush()
    version = await keyring.rotate(session, master, subject_id, now)
    await session.flush()
    destroyed = await _versions(session, subject_id, below=version)
    await keyring.destroy_versions_before(session, subject_id, version)
    return Shredded(rows, destroyed)


async def shred_file(session: AsyncSession, subject_id: str, now: int) -> Shredded:
    """Erase everything sealed for the subject and destroy all its keys."""
    for part in keyring.sealed_parts():
        for row in await part.rows(session, subject_id):
            _empty(row, part)
    for correction in (
        await session.scalars(select(CorrectionRow).where(CorrectionRow.subject_id == subject_id))
    ).all():
        _close(correction, now)
    # Grants made before purposes were sealed kept them in the clear.
    for grant in (await session.scalars(select(GrantRow).where(GrantRow.subject_id == subject_id))).all():
        grant.purpose = None
    records = list((await session.scalars(select(Record).where(Record.subject_id == subject_id))).all())
    for row in records:
        if row.erased_at is None:
            row.erased_at = now
    await session.flush()
    destroyed = await _versions(session, subject_id)
    await keyring.destroy_all(session, subject_id)
    return Shredded(records, destroyed)
