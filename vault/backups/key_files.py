"""Key backups: the subjects' key-encryption keys, kept apart from backups of the data.

A backup of the data (``vault.backups.copies``) holds records sealed under data keys that are
wrapped by subjects' KEKs, and not the KEKs: those go to a key backup in the data directory's
``key-backups/``, one JSON file per backup (each KEK still wrapped by the master key). An
erasure destroys KEKs in the live database, and ``purge`` then removes them from every key
backup here: a data backup taken before the erasure still holds the erased ciphertexts, and
nothing anywhere can open them any more. Restoring a data backup takes its keys back from its
key backup (``restore``), minus what was erased since.

``purge`` removes exactly the versions erasures destroyed (each erasure records them): not
those a move to another crypto suite retired, which older data backups still need. It is
idempotent and safe to run again after a crash (it also runs when the vault starts).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.db.erasure import ErasureRow
from vault.db.models import SubjectKey
from vault.errors import VaultValueError

FORMAT = 1
SUFFIX = ".keys.json"


async def write(session: AsyncSession, directory: Path, name: str) -> Path:
    """Every subject's KEKs (wrapped) into ``directory/<name>.keys.json``, whole or not at all."""
    rows = (await session.scalars(select(SubjectKey).order_by(SubjectKey.subject_id, SubjectKey.version))).all()
    entries = [
        {
            "subject_id": r.subject_id,
            "version": r.version,
            "wrapped": base64.b64encode(r.wrapped).decode(),
            "active": r.active,
            "created_at": r.created_at,
        }
        for r in rows
    ]
    path = directory / f"{name}{SUFFIX}"
    await asyncio.to_thread(_replace, path, {"format": FORMAT, "keys": entries})
    return path


async def purge(session: AsyncSession, directory: Path) -> int:
    """Remove from every key backup the KEKs erasures destroyed; returns how many."""
    backups = await asyncio.to_thread(lambda: sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else [])
    if not backups:
        return 0  # no key backup made: nothing to read, at every start and erasure
    destroyed = {
        (sid, int(version))
        for sid, versions in await session.execute(select(ErasureRow.subject_id, ErasureRow.destroyed_keys))
        for version in json.loads(versions)
    }
    return await asyncio.to_thread(_purge_files, backups, destroyed)


def _purge_files(backups: list[Path], destroyed: set[tuple[str, int]]) -> int:
    removed = 0
    for path in backups:
        document = _read(path)
        kept = [e for e in document["keys"] if (e["subject_id"], e["version"]) not in destroyed]
        if len(kept) != len(document["keys"]):
            removed += len(document["keys"]) - len(kept)
            _replace(path, {**document, "keys": kept})
    return removed


async def restore(session: AsyncSession, path: Path) -> int:
    """Put back the keys of a key backup that the live table lacks (after a data backup was
    restored); returns how many."""
    present = {(sid, v) for sid, v in await session.execute(select(SubjectKey.subject_id, SubjectKey.version))}
    added = 0
    for e in (await asyncio.to_thread(_read, path))["keys"]:
        if (e["subject_id"], e["version"]) not in present:
            session.add(
                SubjectKey(
                    subject_id=e["subject_id"],
                    version=e["version"],
                    wrapped=base64.b64decode(e["wrapped"]),
                    active=e["active"],
                    created_at=e["created_at"],
                )
            )
            added += 1
    await session.flush()
    return added


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VaultValueError(f"{path.name} is not a readable key backup: {exc}", field="key_backup") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("keys"), list):
        raise VaultValueError(f"{path.name} is not a key backup of format {FORMAT}", field="key_backup")
    return document


def _replace(path: Path, document: dict[str, Any]) -> None:
    # Written beside, then renamed over: a crash leaves the old file or the new one, never half.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
