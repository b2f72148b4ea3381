"""One subject moved into the target suite, inside the caller's transaction.

Its KEK is rotated to a KEK of the target suite (``keyring.rotate``: every data key rewrapped),
then every sealed value whose body is still in the other cipher is resealed (``keys.reseal``: a
fresh data key of the target suite, a new body) — a rewrap alone would leave AES (or SM4)
bodies. Values sealed after the run began are in the target suite already and are only
rewrapped. What ``keyring.sealed_parts`` lists is everything there is; erased values (empty
columns) and erased files (no keys at all) are skipped.

Old KEK versions are destroyed only in the sweep (``destroy_old``), never in the first pass: a
write that read the subject's active key just before its rotation committed may still be
sealing under the old version, and destroying it then would lose that value for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import MasterKey, Sealed, Suite, body_suite, key_header, reseal, rewrap
from vault import keyring
from vault.db.models import Record, Subject, SubjectKey


@dataclass(frozen=True)
class Moved:
    rotated: bool = False
    sealed: int = 0  # values resealed into the target suite
    records: int = 0  # of which record bodies
    destroyed: int = 0  # old KEK versions


async def move(
    session: AsyncSession, master: MasterKey, subject_id: str, target: Suite, now: int, *, destroy_old: bool = False
) -> Moved:
    subject = await session.get(Subject, subject_id)
    if subject is None:
        return Moved()
    rows = (await session.scalars(select(SubjectKey).where(SubjectKey.subject_id == subject_id))).all()
    active = next((r for r in rows if r.active), None)
    if active is None:
        return Moved()  # an erased file: its keys were destroyed, nothing is left to move
    lookup = keyring.lookup_over(master, subject_id, {r.version: r.wrapped for r in rows})
    key_id = keyring.kek_id(subject_id)
    version, rotated = active.version, False
    if lookup(key_id, version).suite is not target:
        version, rotated = await keyring.rotate(session, master, subject_id, now, suite=target), True
        lookup = await keyring.lookup_for(session, master, subject_id)
    kek = lookup(key_id, version)
    sealed = records = 0
    for part in keyring.sealed_parts():
        for row in await part.rows(session, subject_id):
            wrapped, body = getattr(row, part.key_column), getattr(row, part.body_column)
            if not wrapped or not body:
                continue  # erased (vault.erasure), or a purpose from before sealing
            value = Sealed(bytes(wrapped), bytes(body))
            if body_suite(value.body) is not target:
                value = reseal(value, part.aad(row), lookup, kek)
                setattr(row, part.key_column, value.wrapped_key)
                setattr(row, part.body_column, value.body)
                sealed += 1
                records += part.model is Record
            elif key_header(value.wrapped_key)[2] != kek.version:
                # Sealed in the target suite mid-way, under the old KEK: the body stays.
                setattr(row, part.key_column, rewrap(value.wrapped_key, part.aad(row), lookup, kek))
    destroyed = 0
    if destroy_old:
        await session.flush()
        destroyed = await keyring.destroy_versions_before(session, subject_id, kek.version)
    return Moved(rotated=rotated, sealed=sealed, records=records, destroyed=destroyed)
