"""Subjects' key-encryption keys: one row per version, wrapped by the master key.

Rotation adds a version and rewraps every data key of the subject; record bodies are not
touched, and a crash mid-rotation leaves the old transaction intact (one DB transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Kek, KeyId, KeyNotFoundError, MasterKey, generate_kek, rewrap, unwrap_kek, wrap_kek
from vault.db.corrections import CorrectionRow
from vault.db.grants import GrantRow
from vault.db.models import Record, Subject, SubjectKey
from vault.errors import NotFoundError


def kek_id(subject_id: str) -> KeyId:
    return KeyId(f"subject:{subject_id}")


async def create_first_key(session: AsyncSession, master: MasterKey, subject_id: str, now: int) -> Kek:
    kek = generate_kek(kek_id(subject_id), 1)
    session.add(
        SubjectKey(subject_id=subject_id, version=1, wrapped=wrap_kek(master, kek), active=True, created_at=now)
    )
    return kek


async def active_key(session: AsyncSession, master: MasterKey, subject_id: str) -> Kek:
    row = await session.scalar(
        select(SubjectKey).where(SubjectKey.subject_id == subject_id, SubjectKey.active.is_(True))
    )
    if row is None:
        raise NotFoundError("subject key", subject_id)
    return unwrap_kek(master, kek_id(subject_id), row.version, row.wrapped)


# Finds the key-encryption key a ciphertext names (id, version); ``keys.open_sealed`` takes one.
KekLookup = Callable[[KeyId, int], Kek]


async def lookup_for(session: AsyncSession, master: MasterKey, subject_id: str) -> KekLookup:
    """A lookup over every version the subject has, for ``keys.open_sealed``."""
    rows = (await session.scalars(select(SubjectKey).where(SubjectKey.subject_id == subject_id))).all()
    return lookup_over(master, subject_id, {row.version: row.wrapped for row in rows})


def lookup_over(master: MasterKey, subject_id: str, wrapped: Mapping[int, bytes]) -> KekLookup:
    """A lookup over the subject's keys as read already (version -> wrapped); each is unwrapped
    when first asked for."""
    cache: dict[int, Kek] = {}

    def lookup(key_id: KeyId, version: int) -> Kek:
        if key_id != kek_id(subject_id) or version not in wrapped:
            raise KeyNotFoundError(key_id, version)
        if version not in cache:
            cache[version] = unwrap_kek(master, key_id, version, wrapped[version])
        return cache[version]

    return lookup


async def rotate(session: AsyncSession, master: MasterKey, subject_id: str, now: int) -> int:
    """Give the subject a new KEK and rewrap every data key under it. Returns the new version."""
    if await session.get(Subject, subject_id) is None:
        raise NotFoundError("subject", subject_id)
    lookup = await lookup_for(session, master, subject_id)
    current = await session.scalar(
        select(SubjectKey.version).where(SubjectKey.subject_id == subject_id).order_by(SubjectKey.version.desc())
    )
    new = generate_kek(kek_id(subject_id), (current or 0) + 1)
    subject = await session.get(Subject, subject_id)
    assert subject is not None
    subject.profile_key = rewrap(subject.profile_key, profile_aad(subject_id), lookup, new)
    records = (await session.scalars(select(Record).where(Record.subject_id == subject_id))).all()
    for record in records:
        record.wrapped_key = rewrap(record.wrapped_key, record_aad(subject_id, record.id, record.version), lookup, new)
    # Correction requests seal the subject's words and the corrected values under the same key.
    for corr in (await session.scalars(select(CorrectionRow).where(CorrectionRow.subject_id == subject_id))).all():
        corr.wrapped_key = rewrap(corr.wrapped_key, correction_aad(subject_id, corr.id, "request"), lookup, new)
        if corr.note_key is not None:
            corr.note_key = rewrap(corr.note_key, correction_aad(subject_id, corr.id, "note"), lookup, new)
    # A grant's purpose in words is sealed under it too.
    grant_rows = await session.scalars(select(GrantRow).where(GrantRow.subject_id == subject_id))
    for grant in grant_rows.all():
        if grant.purpose_key is not None:
            aad = grant_purpose_aad(subject_id, grant.id)
            grant.purpose_key = rewrap(grant.purpose_key, aad, lookup, new)
    await session.execute(update(SubjectKey).where(SubjectKey.subject_id == subject_id).values(active=False))
    session.add(
        SubjectKey(
            subject_id=subject_id, version=new.version, wrapped=wrap_kek(master, new), active=True, created_at=now
        )
    )
    return new.version


def record_aad(subject_id: str, record_id: str, version: int) -> bytes:
    # Binds a ciphertext to its row: moving it to another subject, record or version fails.
    return f"record|{subject_id}|{record_id}|{version}".encode()


def correction_aad(subject_id: str, correction_id: str, part: str) -> bytes:
    # Binds a correction's sealed request or decision note to its subject, request and part.
    return f"correction|{subject_id}|{correction_id}|{part}".encode()


def grant_purpose_aad(subject_id: str, grant_id: str) -> bytes:
    # Binds a grant's sealed purpose to its subject and grant.
    return f"grant|{subject_id}|{grant_id}|purpose".encode()


def profile_aad(subject_id: str) -> bytes:
    return f"profile|{subject_id}".encode()
