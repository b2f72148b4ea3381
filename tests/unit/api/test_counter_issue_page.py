"""The counter's issuance page without a browser (issue 11): only an issuing department's
session opens it, anyone else is refused or sent to sign in; it offers every record type the
vault defines; its CSV template is a file `datavault issue-bulk` reads as it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.cli.bulk_file import read_csv
from api.web.routes.issuing import CHUNK
from api.web.words import issuing
from tests.support.harness import CITIZEN_ID, Harness, open_harness
from vault.record_types import RecordType


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def test_not_signed_in_goes_to_sign_in_and_back(harness: Harness) -> None:
    r = await harness.http.get("/counter/issue")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/counter/issue"
    harness.http.cookies.set("dv_session", "forged.token")
    r = await harness.http.get("/counter/issue")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/counter/issue"


async def test_a_citizens_session_is_refused_with_a_page_saying_why(harness: Harness) -> None:
    h = harness
    citizen = await h.subject(await h.department("gongan"))
    h.http.cookies.set("dv_session", citizen.token)
    r = await h.http.get("/counter/issue")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "这个页面不属于当前身份" in r.text and "department counter" in r.text
    h.http.cookies.set("dv_session", h.admin.token)
    assert (await h.http.get("/counter/issue")).status_code == 403


async def test_a_department_that_does_not_issue_is_refused_with_the_role_it_needs(harness: Harness) -> None:
    h = harness
    reader = await h.department("renshe", roles=["verifier", "data_user"])
    h.http.cookies.set("dv_session", reader.token)
    r = await h.http.get("/counter/issue")
    assert r.status_code == 403 and "本部门没有“签发”职能" in r.text and "issuer role" in r.text


async def test_an_issuer_gets_the_page_with_every_record_type_in_its_language(harness: Harness) -> None:
    h = harness
    issuer = await h.department("gongan", roles=["issuer"])
    h.http.cookies.set("dv_session", issuer.token)
    r = await h.http.get("/counter/issue")
    assert r.status_code == 200 and "<h1>签发证照</h1>" in r.text
    for kind in RecordType:
        assert f'<option value="{kind.value}">' in r.text
    assert '<progress id="progress"' in r.text and 'href="/counter/issue/template.csv"' in r.text
    assert '<a href="/counter/issue">签发证照</a>' in r.text  # in the counter's menu
    assert f'"chunk": {CHUNK}' in r.text and 0 < CHUNK <= 100
    h.http.cookies.set("dv_lang", "en")
    r = await h.http.get("/counter/issue")
    assert "<h1>Issue credentials</h1>" in r.text and "签发证照" not in r.text


async def test_the_csv_template_is_a_file_the_cli_reads_as_it_is(harness: Harness) -> None:
    r = await harness.http.get("/counter/issue/template.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffkind,identifier,type,title,") and "\r\n" in text  # as Excel saves it
    problems: list[tuple[int, str]] = []
    items = read_csv(text, problems)
    assert problems == [] and [line for line, _ in items] == [2, 3]
    (_, licence), (_, certificate) = items
    assert licence["subject"] == {"kind": "citizen", "identifier": CITIZEN_ID}
    assert licence["fields"] == {"姓名": "张三", "准驾车型": "C1"} and certificate["fields"]["结论"] == "无犯罪记录"
    assert {licence["type"], certificate["type"]} <= {t.value for t in RecordType}


def test_both_languages_say_everything_on_the_page() -> None:
    assert issuing.ZH.keys() == issuing.EN.keys()
    assert all(k.startswith("issue.") for k in issuing.ZH)
