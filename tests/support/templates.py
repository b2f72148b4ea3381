"""Databases migrated once per test process, copied for each test; and, on the in-process
chain, a whole vault deployed once per process.

Running the migrations takes most of a harness's opening (Alembic loads every revision, then
runs them). A test's vault gets a copy of a database already at head instead: a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. The migrations still run, once per
process and backend, and ``open_vault`` still runs ``upgrade`` (which finds nothing to do);
the migration tests build their databases from nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from chain.engines.inprocess import InProcessEngine
from tests.support.scratch import scratch_dir
from vault.config import Settings
from vault.db.engine import create_engine, sqlite_url
from vault.db.migrate import upgrade
from vault.setup import open_vault

_sqlite: Path | None = None


async def migrated_sqlite(dest: Path) -> None:
    """Writes a SQLite database at head to ``dest``."""
    global _sqlite
    if _sqlite is None:
        path = scratch_dir("datavault-template-") / "vault.db"
        engine = create_engine(sqlite_url(path))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection out checkpoints the WAL into the file
        _sqlite = path
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite, dest)


async def migrate_template(url: str) -> None:
    """Brings the PostgreSQL database at ``url`` to head and lets go of it, so that it can serve
    as a template (PostgreSQL copies a template only while nobody is connected to it)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


class InProcessTemplate:
    """One in-process chain per test process with a vault deployed on it once: each harness
    gets a copy of that vault's data directory and the chain reverted to just after the
    deployment, instead of a new chain and three deployments in pure-Python EVM (half a second
    of CPU a test). One harness at a time: a second one opened meanwhile gets its own chain."""

    def __init__(self) -> None:
        self.engine: InProcessEngine | None = None
        self.datadir: Path | None = None
        self.snapshot = 0
        self.provider: object = None
        self.in_use = False

    async def _make(self, settings: Callable[[Path], Settings]) -> tuple[InProcessEngine, Path]:
        # Made again if a test stopped the chain or pointed it elsewhere (a node gone, on purpose).
        if (
            self.engine is None
            or self.datadir is None
            or not self.engine.is_running
            or self.engine.w3.provider is not self.provider
        ):
            engine = InProcessEngine()
            engine.start()
            datadir = scratch_dir("datavault-template-vault-")
            await migrated_sqlite(datadir / "vault.db")
            vault = await open_vault(settings(datadir), engine=engine)
            await vault.close()
            self.engine, self.datadir, self.snapshot = engine, datadir, engine.snapshot()
            self.provider = engine.w3.provider
        return self.engine, self.datadir

    async def checkout(self, datadir: Path, settings: Callable[[Path], Settings]) -> InProcessEngine | None:
        """Copies the template vault into ``datadir`` and hands out the chain, reverted; None
        when the chain is in use (the caller opens a vault of its own)."""
        if self.in_use:
            return None
        engine, template = await self._make(settings)
        engine.revert(self.snapshot)
        shutil.copytree(template, datadir, dirs_exist_ok=True)
        self.in_use = True
        return engine

    def resume(self) -> InProcessEngine | None:
        """The chain as the last harness left it, for the same vault opened again (a restart);
        None if it is in use or was stopped."""
        if self.in_use or self.engine is None or not self.engine.is_running:
            return None
        self.in_use = True
        return self.engine

    def release(self) -> None:
        self.in_use = False


INPROCESS = InProcessTemplate()
