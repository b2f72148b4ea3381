"""What a department's read under a grant must know before it discloses anything, in one
statement: whether the caller's session was logged out, the department's current login key and
whether it is active, the grant, and the subject's wrapped keys.

A read used to ask these one at a time through the ORM (token, department, grant, keys: four
round trips and four entity loads, half of the API's CPU on this path). Nothing is cached
between requests: every read asks the database again, inside its own transaction, so a
logout, a replaced key, a deactivation or a revocation committed before the read started is
seen by it. The counted use (``grants.count_use``) checks the grant's state once more as it
takes the use.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.db.grants import GrantRow
from vault.db.models import Department, RevokedToken, SubjectKey


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
    # The subject's key-encryption keys by version, wrapped; only when the grant is the
    # department's own (a read refused for another's grant never touches them).
    keys: dict[int, bytes] = field(default_factory=dict)


# The tables, not the mapped classes: a statement over tables runs without the ORM's loading.
_d, _g, _k, _r = Department.__table__, GrantRow.__table__, SubjectKey.__table__, RevokedToken.__table__
_GRANT_COLUMNS = [_g.c[f.name] for f in fields(GrantFacts)]
_GRANT_AT = slice(3, 3 + len(_GRANT_COLUMNS))  # where they sit in a row of _FACTS

# Built once, with bound parameters: the statement cache finds it compiled every time, and
# nothing is constructed per request. The department's row anchors the join (one row per key
# version of the grant's subject, at least one); no department, no row.
_FACTS = (
    select(
        exists().where(_r.c.jti == bindparam("jti")).label("logged_out"),
        _d.c.auth_address,
        _d.c.active,
        *_GRANT_COLUMNS,
        _k.c.version.label("key_version"),
        _k.c.wrapped.label("key_wrapped"),
    )
    .select_from(
        _d.outerjoin(_g, _g.c.id == bindparam("grant_id")).outerjoin(
            _k, and_(_k.c.subject_id == _g.c.subject_id, _g.c.grantee_code == _d.c.code)
        )
    )
    .where(_d.c.code == bindparam("department"))
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
    grant = None if first.id is None else GrantFacts(*first[_GRANT_AT])
    keys = {int(r.key_version): bytes(r.key_wrapped) for r in rows if r.key_version is not None}
    return ReadFacts(bool(first.logged_out), first.auth_address, bool(first.active), grant, keys)


async def grant_again(session: AsyncSession, grant_id: str) -> GrantFacts | None:
    """The grant as the database holds it now: after a use could not be taken, to say why."""
    row = (await session.execute(_GRANT, {"grant_id": grant_id})).first()
    return None if row is None else GrantFacts(*row)
