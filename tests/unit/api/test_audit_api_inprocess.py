"""The access-log API conformance suite on the in-process chain and SQLite."""

from __future__ import annotations

from tests.audit_api_conformance import *  # the shared suite runs here
from tests.support.harness import Harness


async def test_an_export_reads_in_chunks_and_keeps_to_the_log_it_began_with(harness: Harness) -> None:
    from tests.audit_api_conformance import all_pages, world
    from tests.grant_conformance import read
    from vault.audit.trace import Filter, stream

    h = harness
    w = await world(h)
    everything = [(e["seq"], e["leaf_hash"], e["entry"]) for e in await all_pages(h, w.auditor, limit=1000)]
    sessions = h.vault.ctx.sessions
    assert [(t.seq, t.leaf_hash, t.entry) async for t in stream(sessions, Filter(), chunk=4)] == everything
    newest = [t.seq async for t in stream(sessions, Filter(), order="newest", chunk=3, limit=7)]
    assert newest == [seq for seq, _, _ in everything[::-1][:7]]
    renshe = [t.seq async for t in stream(sessions, Filter(department="renshe"), chunk=1)]
    assert renshe == [seq for seq, _, e in everything if e["actor"] == "renshe"]

    pieces = stream(sessions, Filter(), chunk=2)
    first = await anext(pieces)
    assert (await read(h, w.reader, w.grant["id"])).status_code == 403  # used up: refused, and logged
    await h.settle()  # sequenced while the export runs: not part of it
    assert [first.seq] + [t.seq async for t in pieces] == [seq for seq, _, _ in everything]
    assert len(await all_pages(h, w.auditor, limit=1000)) == len(everything) + 1
