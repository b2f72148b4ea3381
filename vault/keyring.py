"""Subjects' key-encryption keys: one row per version, wrapped by the master key.

Rotation adds a version and rewraps every data key of the subject (every column
``sealed_parts`` lists); bodies are not touched, and a crash mid-rotation leaves the old
transaction intact (one DB transaction). Erasure (vault.erasure) destroys versions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Executable, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Kek, KeyId, KeyNotFoundError, MasterKey, Suite, generate_kek, rewrap, unwrap_kek, wrap_kek
from vault import crypto_suite
from vault.db.corrections import CorrectionRow
from vault.db.grants import DelegationRow, GrantRow
from vault.db.models import Record, Subject, SubjectKey
from vault.errors import ConflictError, NotFoundError


def kek_id(subject_id: str) -> KeyId:
    return KeyId(f"subject:{subject_id}")


async def create_first_key(
    session: AsyncSession, master: MasterKey, subject_id: str, now: int, suite: Suite = Suite.INTL
) -> Kek:
    # The KEK's suite decides every record sealed under it (keys.seal): the vault's suite, or
    # a re-encryption's target from the moment it starts (in every worker: read here).
    suite = await crypto_suite.writing(session) or suite
    kek = generate_kek(kek_id(subject_id), 1, suite)
    session.add(
        SubjectKey(subject_id=subject_id, version=1, wrapped=wrap_kek(master, kek), active=True, created_at=now)
    )
    return kek


async def lock_for_sealing(session: AsyncSession, subject_ids: Collection[str]) -> set[str]:
    """Hold the subjects' rows until this transaction ends, before reading a key to seal under.

    An erasure rotates the subject's key and destroys the old version under the same lock, so
    it either finished first (and the key read next is the new one) or waits until this
    transaction commits: nothing is ever sealed under a version being destroyed. SQLite has no
    row locks and takes its one write lock only at a write, so there it is a no-op write;
    PostgreSQL locks the rows (an UPDATE there would leave a dead row version each time).
    Returns those of the subjects whose file is erased, read under the lock."""
    if not subject_ids:
        return set()
    ids = list(subject_ids)
    locked: Executable
    if session.get_bind().dialect.name == "sqlite":
        locked = (
            update(Subject)
            .where(Subject.id.in_(ids))
            .values(erased_at=Subject.erased_at)
            .returning(Subject.id, Subject.erased_at)
            .execution_options(synchronize_session=False)
        )
    else:
        locked = select(Subject.id, Subject.erased_at).where(Subject.id.in_(ids)).with_for_update()
    return {sid for sid, erased in await session.execute(locked) if erased is not None}


async def _lock_unerased(session: AsyncSession, subject_id: str) -> None:
    if await lock_for_sealing(session, [subject_id]):
        raise ConflictError("this subject's file was erased: nothing can be sealed for it any more")


async def active_key(session: AsyncSession, master: MasterKey, subject_id: str) -> Kek:
    """The KEK new values of the subject are sealed under (its active version), with the subject
    locked for sealing (``lock_for_sealing``)."""
    await _lock_unerased(session, subject_id)
    row = await session.scalar(
        select(SubjectKey).where(SubjectKey.subject_id == subject_id, SubjectKey.active.is_(True))
    )
    if row is None:
        raise NotFoundError("subject key", subject_id)
    kek = unwrap_kek(master, kek_id(subject_id), row.version, row.wrapped)
    return for_writing(kek, await crypto_suite.writing(session))


def for_writing(kek: Kek, writing: Suite | None) -> Kek:
    """``kek`` sealing in ``writing`` (``crypto_suite.writing``): a re-encryption under way that
    has not reached this subject yet still has what is sealed now in its target suite (a data
    key of that suite, under the KEK of the old one)."""
    return kek if writing is None or writing is kek.suite else replace(kek, data_suite=writing)


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


async def rotate(
    session: AsyncSession, master: MasterKey, subject_id: str, now: int, suite: Suite | None = None
) -> int:
    """Give the subject a new KEK and rewrap every data key under it. Returns the new version.

    ``suite`` (default: the current KEK's) is the new KEK's; rotating into the other suite
    rewraps data keys but leaves bodies in their cipher: a re-encryption pass then reseals
    each record (``keys.reseal``) to finish the move."""
    if await session.get(Subject, subject_id) is None:
        raise NotFoundError("subject", subject_id)
    await _lock_unerased(session, subject_id)
    lookup = await lookup_for(session, master, subject_id)
    current = await session.scalar(
        select(SubjectKey.version).where(SubjectKey.subject_id == subject_id).order_by(SubjectKey.version.desc())
    )
    if suite is None:
        suite = lookup(kek_id(subject_id), current).suite if current is not None else Suite.INTL
    new = generate_kek(kek_id(subject_id), (current or 0) + 1, suite)
    for part in sealed_parts():
        for row in await part.rows(session, subject_id):
            wrapped = getattr(row, part.key_column)
            # Empty: erased for good (vault.erasure) — nothing left to rewrap.
            if wrapped:
                setattr(row, part.key_column, rewrap(wrapped, part.aad(row), lookup, new))
    await session.execute(update(SubjectKey).where(SubjectKey.subject_id == subject_id).values(active=False))
    session.add(
        SubjectKey(
            subject_id=subject_id, version=new.version, wrapped=wrap_kek(master, new), active=True, created_at=now
        )
    )
    return new.version


async def destroy_versions_before(session: AsyncSession, subject_id: str, version: int) -> int:
    """Delete the subject's KEKs older than ``version`` (after a rotation nothing needs them):
    whatever they wrapped and was not rewrapped can never be opened again. Returns how many."""
    result = await session.execute(
        delete(SubjectKey).where(SubjectKey.subject_id == subject_id, SubjectKey.version < version)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def destroy_all(session: AsyncSession, subject_id: str) -> int:
    """Delete every KEK of the subject: everything sealed for it is unreadable for good."""
    result = await session.execute(delete(SubjectKey).where(SubjectKey.subject_id == subject_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SealedPart:
    """One place a subject's personal data is stored sealed: the table, the columns holding the
    wrapped data key and the ciphertext, and the associated data that binds them to their row.
    Rotation rewraps every one of them and erasure empties them; both read this one list."""

    model: type[Any]
    key_column: str
    body_column: str
    aad: Callable[[Any], bytes]

    async def rows(self, session: AsyncSession, subject_id: str) -> Sequence[Any]:
        owner = Subject.id if self.model is Subject else self.model.subject_id
        return (await session.scalars(select(self.model).where(owner == subject_id))).all()


def sealed_parts() -> tuple[SealedPart, ...]:
    return (
        SealedPart(Subject, "profile_key", "profile", lambda r: profile_aad(r.id)),
        SealedPart(Record, "wrapped_key", "body", lambda r: record_aad(r.subject_id, r.id, r.version)),
        # Correction requests seal the subject's words and the corrected values, and the
        # issuer's decision note, under the same key.
        SealedPart(CorrectionRow, "wrapped_key", "body", lambda r: correction_aad(r.subject_id, r.id, "request")),
        SealedPart(CorrectionRow, "note_key", "note_body", lambda r: correction_aad(r.subject_id, r.id, "note")),
        SealedPart(GrantRow, "purpose_key", "purpose_body", lambda r: grant_purpose_aad(r.subject_id, r.id)),
        SealedPart(
            DelegationRow,
            "reason_key",
            "reason",
            lambda r: guardian_reason_aad(r.subject_id, r.agent_address, r.created_at),
        ),
    )


def record_aad(subject_id: str, record_id: str, version: int) -> bytes:
    # Binds a ciphertext to its row: moving it to another subject, record or version fails.
    return f"record|{subject_id}|{record_id}|{version}".encode()


def correction_aad(subject_id: str, correction_id: str, part: str) -> bytes:
    # Binds a correction's sealed request or decision note to its subject, request and part.
    return f"correction|{subject_id}|{correction_id}|{part}".encode()


def grant_purpose_aad(subject_id: str, grant_id: str) -> bytes:
    # Binds a grant's sealed purpose to its subject and grant.
    return f"grant|{subject_id}|{grant_id}|purpose".encode()


def guardian_reason_aad(subject_id: str, guardian: str, created_at: int) -> bytes:
    # Binds a guardian's sealed reason to its subject and appointment.
    return f"guardian|{subject_id}|{guardian}|{created_at}|reason".encode()


def profile_aad(subject_id: str) -> bytes:
    return f"profile|{subject_id}".encode()
