"""Alembic environment. The vault hands over an open connection (see vault.db.migrate);
the ``alembic`` command line gets one from the vault's settings (DATAVAULT_DATABASE_URL, else
the SQLite file in DATAVAULT_DATADIR)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from vault.db import audit as _audit_tables  # noqa: F401 - registers the audit tables
from vault.db import corrections as _correction_tables  # noqa: F401 - registers the correction tables
from vault.db import erasure as _erasure_tables  # noqa: F401 - registers the erasure tables
from vault.db import grants as _grant_tables  # noqa: F401 - registers the consent tables
from vault.db import reencryption as _reencryption_tables  # noqa: F401 - registers the re-encryption table
from vault.db.engine import create_engine
from vault.db.models import Base

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from vault.config import Settings

    asyncio.run(run_from_url(Settings.from_env().db_url))
