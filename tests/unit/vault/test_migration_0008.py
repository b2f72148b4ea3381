"""Revision 0008 on a vault from before it: registrars keep registering both kinds, each
subject is put in the care of the registrar the access log says registered it, and the schema
matches the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import vault.db.audit
import vault.db.corrections
import vault.db.grants  # noqa: F401  (their tables belong to Base.metadata)
from vault.db.engine import create_engine, sqlite_url
from vault.db.migrate import upgrade
from vault.db.models import Base

SUBJECT = (
    "INSERT INTO subjects (id, kind, auth_address, profile_key, profile, created_at) "
    "VALUES (:id, 'citizen', :a, x'00', x'00', 1)"
)
ENTRY = (
    "INSERT INTO audit_entries (seq, entry, leaf_hash, mac, at, action, outcome, actor_role, actor, subject_id) "
    "VALUES (:seq, '{}', x'00', x'00', 1, :action, 'ok', :role, :actor, :sid)"
)


async def test_revision_0008_backfills_registrars_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    known, unknown = "0x" + "aa" * 32, "0x" + "bb" * 32
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO departments (code, name, roles, active, auth_address, chain_address, "
                    "chain_key_name, created_at) "
                    "VALUES ('gongan', 'x', 7, 1, :a, :c, 'dept-gongan-chain', 1)"
                ),
                {"a": "0x" + "01" * 20, "c": "0x" + "02" * 20},
            )
            await conn.execute(text(SUBJECT), {"id": known, "a": "0x" + "03" * 20})
            await conn.execute(text(SUBJECT), {"id": unknown, "a": "0x" + "04" * 20})
            await conn.execute(
                text(ENTRY), {"seq": 0, "action": "grant.created", "role": "subject", "actor": unknown, "sid": unknown}
            )
            await conn.execute(
                text(ENTRY),
                {"seq": 1, "action": "subject.registered", "role": "registrar", "actor": "gongan", "sid": known},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT id, registered_by FROM subjects"))).all()
            rows: dict[str, str | None] = {r[0]: r[1] for r in found}
            assert rows == {known: "gongan", unknown: None}
            kinds = (await conn.execute(text("SELECT subject_kinds FROM departments"))).scalar_one()
            assert kinds == "citizen,enterprise"
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        mine = ("revoked_tokens", "challenges", "subject_kinds", "registered_by", "delegations")
        assert [d for d in diff if any(name in repr(d) for name in mine)] == []
    finally:
        await engine.dispose()
