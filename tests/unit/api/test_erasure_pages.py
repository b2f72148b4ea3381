"""The erasure pages without a browser: each is its users' own; a record's page offers its
erasure with what erasing means in plain words; the erasures page names the live grants a whole
file's erasure revokes first (their ids for the page's script, which signs in the browser), then
lists what was erased and on what basis; the issuer reads its notices beside its corrections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.web.i18n import MESSAGES
from tests.grant_conformance import granted, setup
from tests.support.harness import Actor, Harness, open_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def _page(h: Harness, who: Actor, path: str) -> str:
    h.http.cookies.set("dv_session", who.token)
    r = await h.http.get(path)
    assert r.status_code == 200, r.text
    return r.text


async def test_the_erasures_page_is_the_subjects_own(harness: Harness) -> None:
    h = harness
    assert (await h.http.get("/my/erasures")).headers["location"] == "/signin?next=/my/erasures"
    dept = await h.department("gongan")
    await h.subject(dept)
    for wrong in (dept, h.admin):
        h.http.cookies.set("dv_session", wrong.token)
        r = await h.http.get("/my/erasures")
        assert r.status_code == 403 and "这个页面不属于当前身份" in r.text


async def test_a_record_is_offered_for_erasure_and_the_file_names_its_live_grants(harness: Harness) -> None:
    h = harness
    issuer, _reader, citizen, licence = await setup(h)
    grant = await granted(h, citizen)
    zh = MESSAGES["zh"]

    page = await _page(h, citizen, f"/my/records/{licence['id']}")
    assert f'id="erase-record" data-record="{licence["id"]}"' in page
    for key in ("erase.meaning.gone", "erase.meaning.undo", "erase.meaning.issuer", "erase.meaning.chain"):
        assert zh[key] in page, key
    assert "/static/erasure.js" in page and 'href="/my/erasures"' in page

    page = await _page(h, citizen, "/my/erasures")
    assert zh["erase.list.none"] in page
    assert zh["erase.file.grants"].replace("{n}", "1") in page and f'data-grant="{grant["id"]}"' in page
    assert 'id="erase-password"' in page and "/static/wallet.js" in page

    # Erased by the API (as the page's script does): the list says what, by whom, on what basis.
    r = await h.http.post("/me/erasures", json={"scope": "record", "record_id": licence["id"]}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    page = await _page(h, citizen, "/my/erasures")
    assert zh["erase.scope.record"] in page and zh["erase.basis.subject-request"] in page and licence["id"] in page
    assert zh["erase.total"].replace("{n}", "1") in page
    h.http.cookies.set("dv_session", citizen.token)
    assert (await h.http.get(f"/my/records/{licence['id']}")).status_code == 410

    # The issuer sees it where it sees its correction notices, in both languages.
    page = await _page(h, issuer, "/counter/corrections")
    assert zh["enot.h"] in page and licence["id"] in page and 'class="erasure-read"' in page
    assert zh["ccorr.unread"].replace("{n}", "1") in page
    h.http.cookies.set("dv_lang", "en")
    page = await _page(h, issuer, "/counter/corrections")
    assert MESSAGES["en"]["erase.basis.subject-request"] in page
    h.http.cookies.delete("dv_lang")


async def test_after_the_whole_file_the_page_says_so_and_offers_nothing(harness: Harness) -> None:
    h = harness
    _issuer, _reader, citizen, _licence = await setup(h)
    r = await h.http.post("/me/erasures", json={"scope": "file"}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    page = await _page(h, citizen, "/my/erasures")
    assert MESSAGES["zh"]["erase.scope.file"] in page and 'id="erase-file"' not in page
    assert MESSAGES["zh"]["erase.file.erased"].split("{day}")[0] in page
