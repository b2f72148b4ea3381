"""What a department's read under a grant must know before it discloses anything, in one
statement: whether the caller's session was logged out, the department's current login key and
whether it is active, the grant, the subject's wrapped keys, and the sealed records of the
grant's types that it could disclose.

A read used to ask these one at a time through the ORM (token, department, grant, keys,
records: five round trips and as many entity loads, half of the API's CPU on this path). The
keys and records come only with the department's own grant, and nothing is opened before the
grant is found usable (``access.read``). Nothing is cached
between requests: every read asks the database again, inside its own transaction, so a
logout, a replaced key, a deactivation or a revocation committed before the read started is
seen by it. The counted use (``grants.count_use``) checks the grant's state once more as it
takes the use.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlalchemy import and_, bindparam, case, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import RECORD_TYPE_BITS
from vault.credentials import holdings
from vault.credentials.holdings import Holding
from vault.db.grants import GrantRow
from vault.db.models import Department, Record, RevokedToken, SubjectKey


@dataclass(slots=True)
class GrantFacts:
    """The columns of a grant that a read decides on, announces and opens (the purpose).
    ``uses`` is set to the count the read took."""

    id: str
    subject_id: str
    grantee_code: str
    record_types: int
    fields: str  # JSON list of field paths, as signed
    purpose_code: int
    purpose: str | None
    purpose_key: bytes | None
    purpose_body: bytes | None
    not_before: int
    expires_at: int
    max_uses: int
    uses: int
    status: str


@dataclass(frozen=True)
class ReadFacts:
    logged_out: bool  # the token's session is in revoked_tokens
    auth_address: str  # the department's current login key
    active: bool
    grant: GrantFacts | None  # None: no grant with that id
    # The subject's key-encryption keys by version, wrapped, and its disclosable record
    # versions of the grant's types (as ``holdings.latest`` orders them), still sealed; both
    # only when the grant is the department's own.
    keys: dict[int, bytes] = field(default_factory=dict)
    records: list[Holding] = field(default_factory=list)


# The tables, not the mapped classes: a statement over tables runs without the ORM's loading.
_d, _g, _k, _t = Department.__table__, GrantRow.__table__, SubjectKey.__table__, RevokedToken.__table__
_rec = Record.__table__
_GRANT_COLUMNS = [_g.c[f.name] for f in fields(GrantFacts)]
_RECORD_COLUMNS = [_rec.c[name] for name in Holding._fields]
# Where they sit in a row of _FACTS.
_GRANT_AT = slice(3, 3 + len(_GRANT_COLUMNS))
_RECORD_AT = slice(_GRANT_AT.stop + 2, _GRANT_AT.stop + 2 + len(_RECORD_COLUMNS))
# A record's type as the grant's bit for it (chain.consent.RECORD_TYPE_BITS), 0 for none.
_TYPE_BIT = case(RECORD_TYPE_BITS, value=_rec.c.type, else_=0)
_OWN_GRANT = _g.c.grantee_code == _d.c.code

# Built once, with bound parameters: the statement cache finds it compiled every time, and
# nothing is constructed per request. The department's row anchors the join: no department,
# no row; else one row per key version and record version of the grant's subject (keys are
# a few versions at most), at least one.
_FACTS = (
    select(
        exists().where(_t.c.jti == bindparam("jti")).label("logged_out"),
        _d.c.auth_address,
        _d.c.active,
        *_GRANT_COLUMNS,
        _k.c.version.label("key_version"),
        _k.c.wrapped.label("key_wrapped"),
        *_RECORD_COLUMNS,
    )
    .select_from(
        _d.outerjoin(_g, _g.c.id == bindparam("grant_id"))
        .outerjoin(_k, and_(_k.c.subject_id == _g.c.subject_id, _OWN_GRANT))
        .outerjoin(
            _rec,
            and_(
                _rec.c.subject_id == _g.c.subject_id,
                _OWN_GRANT,
                _rec.c.status.in_(holdings.DISCLOSABLE),
                _rec.c.erased_at.is_(None),
                _TYPE_BIT.op("&")(_g.c.record_types) != 0,
            ),
        )
    )
    .where(_d.c.code == bindparam("department"))
    .order_by(_rec.c.created_at, _rec.c.id, _rec.c.version)
)

_GRANT = select(*_GRANT_COLUMNS).where(_g.c.id == bindparam("grant_id"))


async def load(session: AsyncSession, *, jti: str, department: str, grant_id: str) -> ReadFacts | None:
    """The facts for a read of ``grant_id`` by ``department`` with the session ``jti``; None if
    there is no such department (the caller then refuses the token as ``auth.check_live``
    would)."""
    rows = (await session.execute(_FACTS, {"jti": jti, "department": department, "grant_id": grant_id})).all()
    if not rows:
        return None
    first = rows[0]
    # By position: the grant's and the records' columns share names (id, ...).
    grant = None if first[_GRANT_AT.start] is None else GrantFacts(*first[_GRANT_AT])
    keys = {int(r.key_version): bytes(r.key_wrapped) for r in rows if r.key_version is not None}
    # Each record version once (a row per key version repeats it), in the statement's order.
    records = dict.fromkeys(Holding(*r[_RECORD_AT]) for r in rows if r[_RECORD_AT.start] is not None)
    return ReadFacts(bool(first.logged_out), first.auth_address, bool(first.active), grant, keys, list(records))


async def grant_again(session: AsyncSession, grant_id: str) -> GrantFacts | None:
    """The grant as the database holds it now: after a use could not be taken, to say why."""
    row = (await session.execute(_GRANT, {"grant_id": grant_id})).first()
    return None if row is None else GrantFacts(*row)
