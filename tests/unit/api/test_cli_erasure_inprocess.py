"""`datavault erase`, `erasures`, `erasure-notices` and `retention` against the in-process vault:
nothing is erased without a confirmation typed at a terminal or --yes; `erase --file` revokes
each live grant with the subject's own key first; errors are one `datavault:` line, exit 2."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from api.cli import common
from tests.grant_conformance import granted, setup
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import Harness, freeze
from vault import clock
from vault.db.audit import AuditEntry, AuditQueued
from vault.db.grants import GrantRow


def one_error(code: int, out: str, err: str) -> str:
    last = err.strip().splitlines()[-1]
    # After a question, the answer's newline was the terminal's echo: the line follows it.
    assert code == common.EXIT_ERROR and out == "" and "datavault: " in last, (code, out, err)
    assert "Traceback" not in err
    return last[last.index("datavault: ") :]


async def test_erase_a_record_asks_first_then_the_issuer_is_told(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    keep_key(h, "citizen", citizen)
    keep_key(h, "dept-gongan", issuer)
    erase = ("erase", "--as", "citizen", "--record", licence["id"])

    line = one_error(*await run_cli(h, monkeypatch, *erase))
    assert "no one is at a terminal" in line and "--yes" in line
    code, out, err = await run_cli(h, monkeypatch, *erase, stdin="no\n", tty=True)
    assert "nothing was erased" in one_error(code, out, err)
    assert "gone for good" in err and "cannot be brought back" in err and licence["id"] in err
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 200

    code, out, err = await run_cli(h, monkeypatch, *erase, stdin="yes\n", tty=True)
    assert code == 0, err
    erasure = json.loads(out)
    assert erasure["scope"] == "record" and erasure["record_ids"] == [licence["id"]]
    assert "erased the record: 1 record" in err and "no grant revoked" in err
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 410
    # A second time: the vault's 410, as one line.
    assert "410" in one_error(*await run_cli(h, monkeypatch, *erase, "--yes"))

    code, out, err = await run_cli(h, monkeypatch, "erasures", "--as", "citizen")
    assert code == 0 and [e["id"] for e in json.loads(out)] == [erasure["id"]], err
    code, out, err = await run_cli(h, monkeypatch, "erasure-notices", "--as", "dept-gongan", "--unread")
    notices = json.loads(out)
    assert code == 0 and [(n["record_id"], n["basis"]) for n in notices] == [(licence["id"], "subject-request")]
    code, out, err = await run_cli(
        h, monkeypatch, "erasure-notices", "--as", "dept-gongan", "--read", str(notices[0]["id"])
    )
    assert code == 0 and json.loads(out)[0]["read_at"] is not None, err
    code, out, _ = await run_cli(h, monkeypatch, "erasure-notices", "--as", "dept-gongan", "--unread")
    assert json.loads(out) == []


async def test_erase_checks_who_and_what_before_anything(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    keep_key(h, "citizen", citizen)
    keep_key(h, "dept-gongan", issuer)
    assert "is not a record id" in one_error(
        *await run_cli(h, monkeypatch, "erase", "--as", "citizen", "--record", "42")
    )
    line = one_error(*await run_cli(h, monkeypatch, "erase", "--as", "dept-gongan", "--record", licence["id"], "--yes"))
    assert "a department's key" in line and "citizen's or enterprise's own key" in line
    line = one_error(*await run_cli(h, monkeypatch, "erasures", "--as", "dept-gongan"))
    assert "citizen's or enterprise's own key" in line
    assert "a department's key" in one_error(*await run_cli(h, monkeypatch, "erasure-notices", "--as", "citizen"))
    assert "governance admin" in one_error(*await run_cli(h, monkeypatch, "retention", "--as", "citizen"))
    with pytest.raises(SystemExit):
        await run_cli(h, monkeypatch, "erase", "--as", "citizen")  # neither --record nor --file
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 200


async def test_erase_file_revokes_each_live_grant_with_the_subjects_key_then_erases(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    _issuer, _reader, citizen, licence = await setup(h)
    grant = await granted(h, citizen)
    keep_key(h, "citizen", citizen)

    code, out, err = await run_cli(h, monkeypatch, "erase", "--as", "citizen", "--file", stdin="\n", tty=True)
    assert "nothing was erased or revoked" in one_error(code, out, err)
    assert "1 live grant(s)" in err and grant["id"] in err
    async with h.vault.ctx.sessions() as s:
        assert (await s.get(GrantRow, grant["id"])) is not None
        assert (await s.scalar(select(GrantRow.status).where(GrantRow.id == grant["id"]))) == "active"

    code, out, err = await run_cli(h, monkeypatch, "erase", "--as", "citizen", "--file", "--yes")
    assert code == 0, err
    erasure = json.loads(out)
    assert erasure["scope"] == "file" and licence["id"] in erasure["record_ids"]
    assert f"signing a revocation with citizen ({citizen.key.address})" in err
    assert f"revoked grant(s) {grant['id']}" in err
    async with h.vault.ctx.sessions() as s:
        row = await s.get(GrantRow, grant["id"])
        # Revoked by the subject's signature, before the erasure: the erasure revoked nothing.
        assert row is not None and row.status == "revoked" and "erased" not in (row.status_reason or "")
    assert erasure["revoked_grants"] == []
    assert (await h.http.get("/me/records", headers=citizen.headers)).json()["records"] == []
    assert "already erased" in one_error(*await run_cli(h, monkeypatch, "erase", "--as", "citizen", "--file", "--yes"))


async def test_retention_shows_sets_lists_what_is_due_and_runs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    short = await h.issue(
        issuer, type="certificate", title="临时证明", fields={"事项": "x"}, valid_until=clock.now() + 3600
    )
    await h.settle()
    keep_key(h, "admin", h.admin)

    code, out, err = await run_cli(h, monkeypatch, "retention", "--as", "admin")
    assert code == 0 and json.loads(out) == [] and "--set licence=3650" in err
    for bad, why in (("nonsense=1", "name a record type"), ("licence=x", "not a whole number"), ("data=-1", "0-36600")):
        assert why in one_error(*await run_cli(h, monkeypatch, "retention", "--as", "admin", "--set", bad)), bad
    code, out, err = await run_cli(
        h, monkeypatch, "retention", "--as", "admin", "--set", "certificate=30", "--set", "licence=3650"
    )
    assert code == 0, err
    assert [(r["record_type"], r["keep_days_after_expiry"]) for r in json.loads(out)] == [
        ("certificate", 30),
        ("licence", 3650),
    ]
    code, out, _ = await run_cli(h, monkeypatch, "retention", "--as", "admin")
    assert {r["record_type"] for r in json.loads(out)} == {"certificate", "licence"}
    code, out, err = await run_cli(h, monkeypatch, "retention", "--as", "admin", "--dry-run")
    assert code == 0 and json.loads(out) == [] and "0 record(s) due" in err

    freeze(h.app, clock.now() + 3600 + 31 * 24 * 3600)
    code, out, err = await run_cli(h, monkeypatch, "retention", "--as", "admin", "--dry-run")
    assert code == 0 and [d["record_id"] for d in json.loads(out)] == [short["id"]], err
    assert "nothing was erased" in err
    await h.login(citizen)
    assert (await h.http.get(f"/me/records/{short['id']}", headers=citizen.headers)).status_code == 200
    code, out, err = await run_cli(h, monkeypatch, "retention", "--as", "admin", "--run")
    assert code == 0 and json.loads(out)["erased"] == [short["id"]], err
    assert (await h.http.get(f"/me/records/{short['id']}", headers=citizen.headers)).status_code == 410
    assert (await h.http.get(f"/me/records/{licence['id']}", headers=citizen.headers)).status_code == 200

    # A rule removed: nothing of that type is due any more; the changes are in the access log.
    code, out, err = await run_cli(h, monkeypatch, "retention", "--as", "admin", "--unset", "licence")
    assert code == 0 and [r["record_type"] for r in json.loads(out)] == ["certificate"], err
    assert "kept until erased on request" in err
    assert "name a record type" in one_error(
        *await run_cli(h, monkeypatch, "retention", "--as", "admin", "--unset", "nonsense")
    )
    code, _, _ = await run_cli(h, monkeypatch, "retention", "--as", "admin", "--unset", "licence")
    assert code == 0, "removing no rule is not an error"
    async with h.vault.ctx.sessions() as s:
        queued = [json.loads(entry)["action"] for entry in await s.scalars(select(AuditQueued.entry))]
        logged = queued + list(await s.scalars(select(AuditEntry.action)))
    assert logged.count("retention.rule_set") == 2 and logged.count("retention.rule_removed") == 1, logged
