"""`backup`: a copy of the data without its keys, and the keys' own backup beside the vault
(registered by `api.cli`). Runs beside a running vault; needs no master key."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from api.cli.common import CliError


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup",
        help="back up the data without its keys (keys go to the data directory's key-backups/)",
        description=(
            "Writes a copy of the embedded database that holds no key-encryption keys into --to, "
            "and the keys into <datadir>/key-backups/ under the same name. Erasures remove what they "
            "destroy from every key backup, so an old data backup cannot bring erased data back."
        ),
    )
    p.add_argument("--to", type=Path, help="directory for the data backup (default <datadir>/backups)")
    p.add_argument("--keys-only", action="store_true", help="write only the key backup (beside a pg_dump)")
    p.set_defaults(func=cmd_backup)


def cmd_backup(args: argparse.Namespace) -> int:
    return asyncio.run(_backup(args))


async def _backup(args: argparse.Namespace) -> int:
    from vault import backups, clock
    from vault.config import Settings
    from vault.db.engine import create_engine, session_factory
    from vault.errors import VaultError

    settings = Settings.from_env(datadir=args.datadir)
    database = settings.datadir / "vault.db"
    if not settings.database_url and not database.exists():
        raise CliError(f"no vault in {settings.datadir}: start it once with `datavault up` first")
    engine = create_engine(settings.db_url)
    try:
        now = clock.now()
        keys_dir = settings.datadir / "key-backups"
        if args.keys_only:
            async with session_factory(engine)() as session:
                keys = await backups.key_files.write(session, keys_dir, backups.copies.name_at(now))
            print(f"keys: {keys}")
            return 0
        out = args.to or settings.datadir / "backups"
        try:
            data, keys = await backups.copies.write(
                session_factory(engine), None if settings.database_url else database, out, keys_dir, now
            )
        except VaultError as exc:
            raise CliError(str(exc)) from None
        print(f"data (no keys): {data}\nkeys:           {keys}")
        return 0
    finally:
        await engine.dispose()
