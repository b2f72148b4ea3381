"""The correction conformance suite on the in-process chain and SQLite, plus SQLite-only checks."""

from __future__ import annotations

from tests.correction_conformance import *  # the shared suite runs here
from tests.support.canary import files_containing
from tests.support.harness import CITIZEN_ID, Harness


async def test_no_plaintext_of_a_correction_reaches_the_sqlite_file(harness: Harness) -> None:
    from tests.correction_conformance import asked, decide

    h = harness
    reason = "理由金丝雀-reason-canary-51c2"
    value = "更正值金丝雀-value-canary-9e4d"
    note = "批注金丝雀-note-canary-03aa"
    rejected_note = "驳回金丝雀-reject-canary-77b0"
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    other = await h.issue(dept, title="第二份")
    await h.settle()
    first = await asked(h, citizen, record["id"], reason=reason, fields={"姓名": value})
    assert (await decide(h, dept, first["id"], "accept", note=note)).status_code == 200
    second = await asked(h, citizen, other["id"], reason=reason, fields={"备注": value})
    assert (await decide(h, dept, second["id"], "reject", note=rejected_note)).status_code == 200
    await h.settle()
    await h.vault.db.dispose()  # flush the WAL into the file we scan
    assert files_containing(h.datadir, [reason, value, note, rejected_note, CITIZEN_ID]) == []
    # ...and yet the subject reads it all back.
    mine = {c["id"]: c for c in (await h.http.get("/me/corrections", headers=citizen.headers)).json()["corrections"]}
    assert mine[first["id"]]["reason"] == reason and mine[first["id"]]["note"] == note
    assert mine[second["id"]]["fields"] == {"备注": value} and mine[second["id"]]["note"] == rejected_note
    latest = (await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)).json()
    assert latest["version"] == 2 and latest["document"]["fields"]["姓名"] == value
