"""What a subject holds of some record types: the newest version of each record a grant
could disclose, decrypted.

Reads under a grant and the check of a grant's field paths at prepare both start here, so
"a field that exists" means the same to both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_names
from keys import Sealed, open_sealed
from vault import keyring
from vault.context import VaultContext
from vault.db.models import Record

# Records a grant can disclose: what the vault holds and the issuer has not withdrawn.
DISCLOSABLE = ("pending", "anchored")


class Holding(NamedTuple):
    """The columns of a record version that a disclosure names and opens."""

    id: str
    version: int
    type: str
    issuer_code: str
    valid_from: int
    valid_until: int
    created_at: int
    wrapped_key: bytes
    body: bytes


# Built once over the table, with bound parameters (the types expand per call): a department's
# read runs it every time, and neither building it nor loading ORM entities is needed.
_r = Record.__table__
_LATEST = (
    select(*(_r.c[name] for name in Holding._fields))
    .where(
        _r.c.subject_id == bindparam("subject_id"),
        _r.c.type.in_(bindparam("types", expanding=True)),
        _r.c.status.in_(DISCLOSABLE),
        _r.c.erased_at.is_(None),
    )
    .order_by(_r.c.created_at, _r.c.id, _r.c.version)
)


def open_document(subject_id: str, row: Holding | Record, lookup: keyring.KekLookup) -> dict[str, Any]:
    """The record version's document, decrypted (``records.decrypt`` for a loaded row)."""
    plain = open_sealed(Sealed(row.wrapped_key, row.body), keyring.record_aad(subject_id, row.id, row.version), lookup)
    document: dict[str, Any] = json.loads(plain)
    return document


async def latest(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    bits: int,
    lookup: keyring.KekLookup | None = None,
) -> list[tuple[Holding, dict[str, Any]]]:
    """(row, decrypted document) of each disclosable record of the types in ``bits``;
    ``lookup``: the subject's keys, when the caller has read them already."""
    result = await session.execute(_LATEST, {"subject_id": subject_id, "types": record_type_names(bits)})
    rows = [Holding(*row) for row in result]
    if not rows:
        return []
    if lookup is None:
        lookup = await keyring.lookup_for(session, ctx.master, subject_id)
    return opened(subject_id, rows, lookup)


def opened(subject_id: str, rows: Iterable[Holding], lookup: keyring.KekLookup) -> list[tuple[Holding, dict[str, Any]]]:
    """The newest version of each record among ``rows`` (in ``latest``'s order: created, id,
    version), with its decrypted document. A department's read gets its rows with the grant
    (``vault.consent.read_facts``)."""
    newest: dict[str, Holding] = {}
    for row in rows:  # ordered by version: the newest version of each record wins
        newest[row.id] = row
    return [(row, open_document(subject_id, row, lookup)) for row in newest.values()]
