"""Backups without keys: a data backup holds ciphertexts and wrapped data keys, never a
subject's key-encryption key; those go to a key backup in the data directory, and an erasure
removes what it destroyed from every key backup. So a data backup taken before an erasure,
restored with its key backup, opens everything but what was erased since."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from pathlib import Path

import pytest

from api.cli import main
from keys import DecryptionError, KeyNotFoundError, Sealed, open_sealed
from tests.grant_conformance import setup
from tests.support.harness import Harness
from tests.support.world import OTHER_CITIZEN_ID
from vault import clock, keyring
from vault.erasure import storage

MARKER = "备份抹除标记-41d2"


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as c:
        return list(c.execute(sql))


def _opens(h: Harness, backup: Path, keys: Path, record_id: str) -> bool:
    """Restore in miniature: the record's row from the data backup, its subject's keys from the
    key backup, and the master key. True if it opens."""
    ((sid, version, wrapped, body),) = _rows(
        backup, f"SELECT subject_id, version, wrapped_key, body FROM records WHERE id = '{record_id}'"
    )
    kept = {
        e["version"]: base64.b64decode(e["wrapped"])
        for e in json.loads(keys.read_text())["keys"]
        if e["subject_id"] == sid
    }
    lookup = keyring.lookup_over(h.vault.ctx.master, str(sid), kept)
    try:
        open_sealed(Sealed(bytes(wrapped), bytes(body)), keyring.record_aad(str(sid), record_id, int(version)), lookup)
        return True
    except (KeyNotFoundError, DecryptionError):
        return False


async def test_a_data_backup_holds_no_keys_and_cannot_bring_back_what_was_erased(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    await h.subject(issuer, identifier=OTHER_CITIZEN_ID, name="李四")
    secret = await h.issue(issuer, type="data", title="病历摘要", fields={"诊断": MARKER})
    other = await h.issue(issuer, identifier=OTHER_CITIZEN_ID, fields={"姓名": "李四", "准驾车型": "C1"})
    await h.settle()
    assert (
        await asyncio.to_thread(main, ["--datadir", str(h.datadir), "backup", "--to", str(h.datadir / "off-site")]) == 0
    )
    out = capsys.readouterr().out
    (backup,) = (h.datadir / "off-site").glob("vault-*.db")
    (keys,) = (h.datadir / "key-backups").glob("vault-*.keys.json")
    assert str(backup) in out and str(keys) in out

    # The data backup: every record, no key-encryption key, not a byte of one.
    live_keks = [bytes(k) for (k,) in _rows(h.datadir / "vault.db", "SELECT wrapped FROM subject_keys")]
    assert _rows(backup, "SELECT count(*) FROM subject_keys") == [(0,)]
    assert {r for (r,) in _rows(backup, "SELECT id FROM records")} >= {licence["id"], secret["id"], other["id"]}
    raw = backup.read_bytes()
    assert live_keks and not any(k in raw for k in live_keks)
    assert MARKER.encode() not in raw
    # Before any erasure, the backup and its keys restore everything.
    assert all(_opens(h, backup, keys, r["id"]) for r in (licence, secret, other))

    r = await h.http.post("/me/erasures", json={"scope": "record", "record_id": secret["id"]}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    assert await storage.after_erasure(h.vault.ctx)

    # The erased record no longer opens from the old backup; another subject's still does. The
    # subject's other records in that backup were under the destroyed version too: they come
    # back from a backup taken after the erasure.
    assert not _opens(h, backup, keys, secret["id"])
    assert _opens(h, backup, keys, other["id"])


async def test_keys_retired_otherwise_than_by_an_erasure_stay_in_the_key_backups(harness: Harness) -> None:
    """A move to another crypto suite retires old KEK versions too: older data backups still
    need them, so only what erasures destroyed leaves the key backups."""
    h = harness
    _issuer, _reader, citizen, _licence = await setup(h)
    sid = str((await h.http.get("/me", headers=citizen.headers)).json()["id"])
    assert await asyncio.to_thread(main, ["--datadir", str(h.datadir), "backup", "--keys-only"]) == 0
    (keys,) = (h.datadir / "key-backups").glob("*.keys.json")
    async with h.vault.ctx.sessions.begin() as s:
        version = await keyring.rotate(s, h.vault.ctx.master, sid, clock.now())
        await s.flush()
        assert await keyring.destroy_versions_before(s, sid, version) == 1
    assert await storage.after_erasure(h.vault.ctx)
    assert (sid, 1) in {(e["subject_id"], e["version"]) for e in json.loads(keys.read_text())["keys"]}
