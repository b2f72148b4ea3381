"""Stop everything and start again, on a real anvil: cleanly, or with the node killed (-9).

Before the stop the vault holds anchored credentials, an anchor whose transaction was
broadcast and mined but never recorded as such (the submitter "died" waiting for the
receipt) and credentials not yet batched. After the restart old credentials still verify,
records still decrypt with tokens issued before, every pending anchor is completed and no
root is anchored twice. When anvil is killed right after mining, its state file may lack the
last blocks: ``Submitter.reconcile`` (run on open) must queue those writes again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chain.engines.anvil import AnvilEngine
from tests.support.harness import Actor, Harness, issuances, kill_node, open_harness, reopen_harness
from tests.support.postgres import fresh_database
from vault.db.models import OutboxEntry
from vault.outbox.submitter import Submitter

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """The vault process died here."""


def crash(*_args: Any, **_kwargs: Any) -> Any:
    raise Crash()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield ""  # the SQLite file in the data directory
        return
    async with fresh_database() as url:
        yield url


async def records_of(h: Harness, citizen: Actor) -> dict[str, dict[str, Any]]:
    r = await h.http.get("/me/records", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return {rec["id"]: rec for rec in r.json()["records"]}


async def outbox_rows(h: Harness) -> dict[int, OutboxEntry]:
    async with h.vault.ctx.sessions() as s:
        return {e.id: e for e in await s.scalars(select(OutboxEntry))}


async def valid(h: Harness, record: dict[str, Any]) -> bool:
    r = await h.http.post("/verify", json={"document": record["document"], "proof": record["anchor"]["proof"]})
    assert r.status_code == 200, r.text
    return bool(r.json()["valid"])


async def restart(tmp_path: Path, database_url: str, stop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    h = await open_harness(tmp_path, chain="anvil", database_url=database_url)
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    settled = [await h.issue(dept, title=f"已锚定 {i}") for i in range(2)]
    await h.settle()
    in_flight = [await h.issue(dept, title=f"在途 {i}") for i in range(2)]
    with monkeypatch.context() as m:
        m.setattr(Submitter, "_wait", crash)  # broadcast (and mined at once), never recorded as such
        with pytest.raises(Crash):
            await h.vault.submitter.run_once()
    unbatched = [await h.issue(dept, title=f"待批 {i}") for i in range(2)]
    before = await records_of(h, citizen)
    rows_before = await outbox_rows(h)
    signed = [e for e in rows_before.values() if e.status == "signed"]
    assert len(signed) == 1 and signed[0].kind == "issue"
    assert {before[r["id"]]["status"] for r in settled} == {"anchored"}
    assert {before[r["id"]]["status"] for r in in_flight + unbatched} == {"pending"}

    if stop == "close":
        await h.close()
    else:
        engine = h.vault.ctx.chain.engine
        assert isinstance(engine, AnvilEngine)
        if stop == "kill_persisted":
            engine.wait_persisted()
        await kill_node(h)

    h = await reopen_harness(h)
    try:
        head = int(h.vault.ctx.chain.engine.w3.eth.block_number)
        rows = await outbox_rows(h)
        # Whatever sat in blocks the node lost is queued again (in place); nothing else is.
        lost = {i for i, e in rows_before.items() if e.status == "done" and (e.block_number or 0) > head}
        if stop != "kill_now":
            assert lost == set()
        for i, e in rows_before.items():
            if i in lost:
                assert rows[i].status == "pending" and "lost block" in (rows[i].last_error or "")
            else:
                assert (rows[i].status, rows[i].tx_hash) == (e.status, e.tx_hash)
        assert len(rows) == len(rows_before)

        # Records decrypt for their subject, with the token from before the restart.
        now = await records_of(h, citizen)
        assert {k: v["document"] for k, v in now.items()} == {k: v["document"] for k, v in before.items()}
        for rec in settled:
            if not lost:
                assert await valid(h, before[rec["id"]])  # verifies as exported, before anything is sent

        await h.settle()
        after = await records_of(h, citizen)
        assert {rec["status"] for rec in after.values()} == {"anchored"}
        roots = {rec["anchor"]["root"] for rec in after.values()}
        assert len(roots) == 3  # settled, in flight, unbatched: one batch each
        counts = issuances(h)
        assert {root: counts[root] for root in roots} == dict.fromkeys(roots, 1)
        assert sum(counts.values()) == 3
        for rec in settled:
            assert after[rec["id"]]["anchor"]["root"] == before[rec["id"]]["anchor"]["root"]
            assert await valid(h, before[rec["id"]])  # the credential a citizen exported earlier
            if not lost:
                assert after[rec["id"]]["anchor"]["tx_hash"] == before[rec["id"]]["anchor"]["tx_hash"]
        for rec in in_flight:
            assert after[rec["id"]]["anchor"]["tx_hash"] == signed[0].tx_hash  # the bytes recorded
        for rec in after.values():
            assert await valid(h, rec)
            receipt = h.vault.ctx.chain.engine.w3.eth.get_transaction_receipt(rec["anchor"]["tx_hash"])
            assert receipt["status"] == 1 and receipt["blockNumber"] == rec["anchor"]["block_number"]
        assert {e.status for e in (await outbox_rows(h)).values()} == {"done"}
        assert await h.vault.submitter.reconcile() == 0
    finally:
        await h.close()


async def test_restart_after_a_clean_stop(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await restart(tmp_path, database_url, "close", monkeypatch)


@pytest.mark.parametrize("stop", ["kill_persisted", "kill_now"])
async def test_restart_after_kill_9_of_the_node(tmp_path: Path, stop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await restart(tmp_path, "", stop, monkeypatch)
