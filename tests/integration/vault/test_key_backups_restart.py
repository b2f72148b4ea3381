"""Key backups after a crash, on anvil (whose chain survives the restart): an erasure whose
process died between its commit and the purge of the key backups is finished when the vault
starts again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from api.cli import main
from tests.grant_conformance import setup
from tests.support.harness import open_harness, reopen_harness
from vault.db.models import SubjectKey
from vault.erasure import storage

MARKER = "备份抹除标记-41d2"


async def test_a_purge_cut_short_by_a_crash_is_finished_when_the_vault_starts(tmp_path: Path) -> None:
    h = await open_harness(tmp_path, chain="anvil")
    try:
        issuer, _reader, citizen, _licence = await setup(h)
        secret = await h.issue(issuer, type="data", title="病历摘要", fields={"诊断": MARKER})
        await h.settle()
        assert await asyncio.to_thread(main, ["--datadir", str(h.datadir), "backup", "--keys-only"]) == 0
        (keys,) = (h.datadir / "key-backups").glob("*.keys.json")
        before = keys.read_bytes()
        r = await h.http.post(
            "/me/erasures", json={"scope": "record", "record_id": secret["id"]}, headers=citizen.headers
        )
        assert r.status_code == 201, r.text
        await storage.after_erasure(h.vault.ctx)
        assert keys.read_bytes() != before
        keys.write_bytes(before)  # as if the process had died between the commit and the purge
    finally:
        await h.close()
    h = await reopen_harness(h)
    try:
        versions = {(e["subject_id"], e["version"]) for e in json.loads(keys.read_text())["keys"]}
        async with h.vault.ctx.sessions() as s:
            live = {(sid, v) for sid, v in await s.execute(select(SubjectKey.subject_id, SubjectKey.version))}
        old = {(e["subject_id"], e["version"]) for e in json.loads(before)["keys"]}
        assert old - live, "the backup held the version the erasure destroyed"
        assert versions == old & live, "the destroyed version is gone from the key backup again"
    finally:
        await h.close()
