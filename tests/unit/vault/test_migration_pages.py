"""Revisions 0010, 0011 and 0012 on a vault from before them: the indexes that page a subject's
records, grants and corrections (vault.pages) are made, are what the models declare, are used,
and go on downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

import vault.db.audit
import vault.db.corrections
import vault.db.grants  # noqa: F401  (their tables belong to Base.metadata)
from vault.db.engine import create_engine, sqlite_url
from vault.db.migrate import alembic_config, upgrade
from vault.db.models import Base

INDEX = "ix_records_subject_created"


async def indexes(engine: AsyncEngine) -> dict[str, list[str]]:
    async with engine.connect() as conn:
        found = await conn.run_sync(lambda c: inspect(c).get_indexes("records"))
    return {i["name"]: list(i["column_names"]) for i in found}


async def test_revision_0010_adds_the_record_page_index_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    try:
        await upgrade(engine, "0009")
        assert INDEX not in await indexes(engine)
        await upgrade(engine)
        assert (await indexes(engine))[INDEX] == ["subject_id", "created_at", "id", "version"]
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
            plan = (
                await conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT * FROM records WHERE subject_id = 'x' "
                        "AND (created_at, id, version) > (1, 'a', 1) ORDER BY created_at, id, version LIMIT 101"
                    )
                )
            ).all()
        assert [d for d in diff if "records" in repr(d)] == []
        steps = " ".join(str(row[-1]) for row in plan)
        assert INDEX in steps and "TEMP B-TREE" not in steps, steps  # a range scan, no sort
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0009"))
        assert INDEX not in await indexes(engine)
    finally:
        await engine.dispose()


async def test_revision_0011_adds_the_grant_page_indexes_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    names = {"ix_grants_subject_created": "subject_id", "ix_grants_grantee_created": "grantee_code"}
    try:
        await upgrade(engine, "0010")
        async with engine.connect() as conn:
            before = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("grants")})
        assert not before & names.keys()
        await upgrade(engine)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: inspect(c).get_indexes("grants"))
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        columns = {i["name"]: list(i["column_names"]) for i in found}
        for name, first in names.items():
            assert columns[name] == [first, "created_at", "id"]
        assert [d for d in diff if "grants" in repr(d)] == []
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0010"))
            after = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("grants")})
        assert not after & names.keys()
    finally:
        await engine.dispose()


async def test_revision_0012_adds_the_correction_page_indexes_and_matches_the_models(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    names = {
        "ix_corrections_subject_created": ["subject_id", "created_at", "id"],
        "ix_corrections_issuer_created": ["issuer_code", "created_at", "id"],
        "ix_corrections_issuer_status": ["issuer_code", "status", "created_at", "id"],
    }
    page = "AND (created_at, id) > (1, 'a') ORDER BY created_at, id LIMIT 101"
    queries = [
        f"SELECT * FROM corrections WHERE subject_id = 'x' {page}",
        f"SELECT * FROM corrections WHERE issuer_code = 'x' {page}",
        f"SELECT * FROM corrections WHERE issuer_code = 'x' AND status = 'requested' {page}",
    ]
    try:
        await upgrade(engine, "0011")
        async with engine.connect() as conn:
            before = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("corrections")})
        assert not before & names.keys()
        await upgrade(engine)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: inspect(c).get_indexes("corrections"))
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
            plans = [(await conn.execute(text(f"EXPLAIN QUERY PLAN {q}"))).all() for q in queries]
        columns = {i["name"]: list(i["column_names"]) for i in found}
        for name, expected in names.items():
            assert columns[name] == expected
        assert [d for d in diff if "corrections" in repr(d)] == []
        for plan, name in zip(plans, names, strict=True):
            steps = " ".join(str(row[-1]) for row in plan)
            assert name in steps and "TEMP B-TREE" not in steps, steps  # a range scan, no sort
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0011"))
            after = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("corrections")})
        assert not after & names.keys()
    finally:
        await engine.dispose()
