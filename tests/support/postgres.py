"""A fresh PostgreSQL database per test, on the server `make test` started.

The server URL comes from DATAVAULT_TEST_POSTGRES_URL; without it the PostgreSQL cases
fail loudly rather than skip, because a backend that is never tested is not supported.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import URL, make_url

from tests.support import templates

ENV = "DATAVAULT_TEST_POSTGRES_URL"


def server_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        raise RuntimeError(f"{ENV} is not set: run the suite with `make test`, which starts PostgreSQL")
    return url


_template: str | None = None


async def _migrated_template(admin_dsn: str, base: URL) -> str:
    """The name of this process's template database, at head (made on first use)."""
    global _template
    if _template is None:
        name = f"dv_template_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await templates.migrate_template(base.set(database=name).render_as_string(hide_password=False))
        _template = name
    return _template


@asynccontextmanager
async def fresh_database(*, migrated: bool = True) -> AsyncIterator[str]:
    """A new database, dropped afterwards: a copy of one already at head (the migrations run once
    per process), or an empty one."""
    base = make_url(server_url())
    name = f"dv_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    template = await _migrated_template(admin_dsn, base) if migrated else "template0"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
