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
from sqlalchemy.engine import make_url

ENV = "DATAVAULT_TEST_POSTGRES_URL"


def server_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        raise RuntimeError(f"{ENV} is not set: run the suite with `make test`, which starts PostgreSQL")
    return url


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    base = make_url(server_url())
    name = f"dv_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
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
