"""The vault conformance suite on the in-process chain and SQLite, plus SQLite-only checks."""

from __future__ import annotations

from tests.support.canary import files_containing
from tests.support.harness import CITIZEN_ID, Harness
from tests.vault_conformance import *


async def test_no_plaintext_reaches_the_sqlite_file(harness: Harness) -> None:
    h = harness
    canary = "金丝雀-canary-7f3a9c"
    name = "王小明CANARYNAME"
    dept = await h.department("gongan")
    citizen = await h.subject(dept, name=name)
    record = await h.issue(dept, fields={"备注": canary, "姓名": name}, title="canary title 甲")
    await h.settle()
    await h.vault.db.dispose()  # flush the WAL into the file we scan
    leaks = files_containing(h.datadir, [canary, name, CITIZEN_ID, "canary title 甲"])
    assert leaks == []
    # ...and yet the subject reads it all back.
    r = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
    assert r.json()["document"]["fields"]["备注"] == canary
