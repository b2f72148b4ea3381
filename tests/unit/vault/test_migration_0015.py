"""Revision 0015 on a vault from before it: every department registered so far is a government
one, with no licence number, and keeps its roles."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from vault.db.engine import create_engine, sqlite_url
from vault.db.migrate import upgrade


async def test_revision_0015_makes_every_earlier_department_a_government_one(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    try:
        await upgrade(engine, "0014")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO departments (code, name, roles, active, auth_address, chain_address, "
                    "chain_key_name, created_at) "
                    "VALUES ('gongan', 'x', 7, 1, :a, :c, 'dept-gongan-chain', 1)"
                ),
                {"a": "0x" + "01" * 20, "c": "0x" + "02" * 20},
            )
        await upgrade(engine, "0015")
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT roles, kind, licence_number FROM departments"))).one()
            assert tuple(row) == (7, "government", None)
    finally:
        await engine.dispose()
