"""`datavault crypto status` / `crypto migrate` and the routes behind them, against the
in-process vault: a move to sm started from the terminal, reads during it, the report's numbers,
and who may ask."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from api.routes.crypto import job_of
from keys import Sealed, Suite, sealed_suites
from tests.bulk_conformance import citizen_id
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - the ``harness`` fixture
from tests.support.harness import Harness
from vault import clock
from vault.db.models import Record


async def test_the_terminal_starts_a_move_to_sm_and_follows_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    keep_key(h, "admin", h.admin)
    dept = await h.department("gongan")
    citizens = []
    for n in range(1, 4):
        citizens.append(await h.subject(dept, identifier=citizen_id(n)))
        for _ in range(2):
            await h.issue(dept, identifier=citizen_id(n))
    await h.settle()

    code, out, err = await run_cli(h, monkeypatch, "crypto", "status")
    assert code == 0, err
    assert json.loads(out) == {"suite": "intl", "writing": "intl", "migration": None}
    assert err.startswith("crypto suite intl; never re-encrypted")

    code, out, err = await run_cli(h, monkeypatch, "crypto", "migrate", "--to", "sm")
    assert code == 0, err
    started = json.loads(out)
    assert started["writing"] == "sm" and started["migration"]["subjects_total"] == 3
    assert "re-encryption intl -> sm moving: 0/3 subjects" in err

    code, _, err = await run_cli(h, monkeypatch, "crypto", "migrate", "--to", "sm")
    assert code == 2 and "under way" in err, err
    code, _, err = await run_cli(h, monkeypatch, "crypto", "status", "--as", "nobody")
    assert code == 2 and "no key named 'nobody'" in err, err

    # One subject at a time; the citizens read their records between steps.
    job = job_of(h.app)
    for done in range(1, 4):
        assert await job.run_once(clock.now(), limit=1) == 1
        for citizen in citizens:
            r = await h.http.get("/me/records", headers=citizen.headers)
            assert r.status_code == 200, r.text
            for item in r.json()["records"]:
                one = await h.http.get(f"/me/records/{item['id']}", headers=citizen.headers)
                assert one.status_code == 200 and one.json()["document"]["fields"]["准驾车型"] == "C1", one.text
        code, out, _ = await run_cli(h, monkeypatch, "crypto", "status")
        assert json.loads(out)["migration"]["subjects_done"] == done
    await job.run_once(clock.now())
    await job.run_once(clock.now() + job.grace + 1)

    code, out, err = await run_cli(h, monkeypatch, "crypto", "status")
    report = json.loads(out)
    assert report["suite"] == "sm" and report["migration"]["phase"] == "done", report
    m = report["migration"]
    assert (m["subjects_done"], m["subjects_total"], m["subjects_moved"], m["records_moved"]) == (3, 3, 3, 6)
    assert m["sealed_moved"] == 6 + 3 and m["keys_destroyed"] == 3 and m["finished_at"] is not None
    assert "re-encrypted from intl to sm, finished" in err
    async with h.vault.ctx.sessions() as session:
        rows = (await session.scalars(select(Record))).all()
    assert {sealed_suites(Sealed(r.wrapped_key, r.body)) for r in rows} == {(Suite.SM, Suite.SM)}


async def test_only_the_admin_sees_or_starts_a_move(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    for method, path, body in (
        ("GET", "/system/crypto", None),
        ("POST", "/system/crypto/migration", {"to": "sm"}),
    ):
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        assert (await h.http.request(method, path, **kwargs)).status_code == 401
        assert (await h.http.request(method, path, headers=dept.headers, **kwargs)).status_code == 403
    r = await h.http.post("/system/crypto/migration", json={"to": "sm", "extra": 1}, headers=h.admin.headers)
    assert r.status_code == 422, r.text
    r = await h.http.post("/system/crypto/migration", json={"to": "intl"}, headers=h.admin.headers)
    assert r.status_code == 409 and "intl suite already" in r.text, r.text
