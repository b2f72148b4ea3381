"""The counter's issuance page in a real browser (issue 11): a department officer makes a key in
the page, is registered as an issuer, signs in and issues one credential from the form (a
mistyped ID number is refused beside its field first), then a CSV batch: a file with a bad line
is checked and that line is named by its number in the file, nothing issued; the corrected file
is issued in chunks while the <progress> moves, and the anchor transaction appears. What the
clerk sees is asserted, and that the citizens really hold the records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import DESKTOP, PHONE, Console, screenshot
from tests.support.harness import CITIZEN_ID, Actor
from tests.support.pages import KEY_TIMEOUT, axe, counter_department, keyboard_gaps, make_key, sign_in
from tests.support.served import Served
from vault.accounts.identifiers import resident_id_check

pytestmark = pytest.mark.integration

BATCH = 120  # three calls of 50, 50 and 20: the bar moves three times


def citizen_id(n: int) -> str:
    first17 = f"35010219850101{n:03d}"
    return first17 + resident_id_check(first17)


PEOPLE = [CITIZEN_ID, citizen_id(11), citizen_id(12)]
UNREGISTERED = citizen_id(99)  # well formed, never enrolled


def enrol(s: Served) -> list[Actor]:
    """The registration counter (the harness's own) enrols three citizens, each with a key."""
    h = s.harness

    async def at_the_counter() -> list[Actor]:
        registrar = await h.department("minzheng", roles=["registrar"], name="民政局")
        return [await h.subject(registrar, identifier=i, name=f"市民{n}") for n, i in enumerate(PEOPLE)]

    return s.run(at_the_counter())


def records_of(s: Served, people: list[Actor]) -> list[list[dict[str, Any]]]:
    async def read() -> list[list[dict[str, Any]]]:
        out = []
        for person in people:
            r = await s.harness.http.get("/me/records", headers=person.headers)
            assert r.status_code == 200, r.text
            out.append(r.json()["records"])
        return out

    return s.run(read())


def csv_file(path: Path, bad_line: bool) -> Path:
    """As Excel saves it: a BOM, CRLF, a quoted cell holding a comma and Chinese, and (row 2) a
    quoted cell holding a line break, so that a row's number is not the file's line number."""
    lines = ["kind,identifier,type,title,valid_until,姓名,住址,备注"]
    common = "certificate,居住证明,2027-12-31"
    lines.append(f'citizen,{PEOPLE[0]},{common},市民0,"福州市鼓楼区,五四路 1 号","第一行\r\n第二行"')
    for n in range(1, BATCH):
        who = UNREGISTERED if bad_line and n == 1 else PEOPLE[n % 3]
        lines.append(f'citizen,{who},{common},市民{n % 3},"福州市鼓楼区,五四路 {n} 号",第 {n} 份')
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_a_counter_issues_one_credential_then_a_checked_csv_batch(
    vault: Served, chromium: Browser, tmp_path: Path
) -> None:
    # The refusals the test provokes (a mistyped number, the dry run's bad line) are logged.
    console = Console(expected=("status of 422",))
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    console.listen(page)
    address = make_key(page, vault.url)
    counter_department(vault, address, code="gongan", name="市公安局", roles=("issuer", "verifier"))
    people = enrol(vault)
    sign_in(page, "/counter")
    page.get_by_role("link", name="签发证照").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("签发证照")

    # One credential. A mistyped ID number first: the reason beside the field, nothing issued.
    page.get_by_label("市民（身份证号）").check()
    page.get_by_label("证件号码").fill(CITIZEN_ID[:-1] + "1")
    page.get_by_label("证照类别").select_option("certificate")
    page.get_by_label("证照名称").fill("无犯罪记录证明")
    page.get_by_label("第 1 项名称").fill("结论")
    page.get_by_label("第 1 项内容").fill("无犯罪记录")
    page.get_by_role("button", name="再加一项").click()
    expect(page.get_by_label("第 2 项名称")).to_be_focused()
    page.keyboard.type("姓名")
    page.keyboard.press("Tab")
    page.keyboard.type("张三")
    # An empty 有效期至 is named as required beside the field, not as a date in the wrong order.
    page.get_by_role("button", name="签发", exact=True).click()
    expect(page.locator("#valid-until-error")).to_have_text("有效期至为必填项：请选择证照有效的最后一天。")
    expect(page.get_by_label("有效期至（含当天）")).to_be_focused()
    page.get_by_label("有效期至（含当天）").fill("2027-12-31")
    page.get_by_role("button", name="签发", exact=True).click()
    error = page.locator("#identifier-error")
    expect(error).to_contain_text("请核对证件号码", timeout=KEY_TIMEOUT)
    expect(error).to_contain_text("check digit")
    expect(page.get_by_label("证件号码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("证件号码")).to_be_focused()
    screenshot(page, "counter-issue-error-phone-zh")
    assert axe(page) == []

    page.get_by_label("证件号码").fill(CITIZEN_ID)
    page.get_by_label("证件号码").press("Enter")  # the keyboard submits the form
    issued = page.locator("#issued-record")
    expect(issued).to_contain_text("待上链", timeout=KEY_TIMEOUT)
    expect(error).to_be_hidden()
    record_id = issued.locator("dd").first.inner_text()
    assert re.fullmatch(r"\S{8,}", record_id), record_id
    vault.run(vault.harness.settle())
    expect(issued).to_contain_text("已上链", timeout=KEY_TIMEOUT)
    expect(issued).to_contain_text(re.compile(r"上链交易\s*0x[0-9a-f]{64}"))
    screenshot(page, "counter-issue-one-phone-zh")
    assert axe(page) == []
    (zhang, *_) = records_of(vault, people)
    (mine,) = [r for r in zhang if r["id"] == record_id]
    assert mine["issuer"] == "gongan" and mine["status"] == "anchored" and mine["type"] == "certificate"
    assert mine["document"]["fields"] == {"结论": "无犯罪记录", "姓名": "张三"}
    assert mine["document"]["title"] == "无犯罪记录证明"

    # How the page reads a file: quotes, doubled quotes, line breaks in cells, a BOM, CR, CRLF
    # or LF; each row with the line it starts on; an unclosed quote named by its line.
    parsed = page.evaluate(
        """() => Issuing.parseCsv('\\ufeffa,b\\r\\n"x,1","say ""hi""\\r\\nbye"\\r\\n\\r\\n3,\\r4,"5')"""
    )
    assert parsed == {
        "rows": [
            {"line": 1, "cells": ["a", "b"]},
            {"line": 2, "cells": ["x,1", 'say "hi"\nbye']},
            {"line": 4, "cells": [""]},
            {"line": 5, "cells": ["3", ""]},
        ],
        "unclosed": 6,
    }

    # The template to start from, as Excel opens it.
    with page.expect_download() as waiting:
        page.get_by_role("link", name="下载 CSV 模板").click()
    template = Path(waiting.value.path()).read_bytes().decode("utf-8")
    assert template.startswith("\ufeffkind,identifier,type,title,")

    # A batch with one bad line: its third row, on the file's line 4 (the second spans lines 2 and 3).
    page.set_viewport_size(DESKTOP)
    page.get_by_label(re.compile("^CSV 文件")).set_input_files(str(csv_file(tmp_path / "bad.csv", bad_line=True)))
    page.get_by_role("button", name="检查文件").click()
    bad = page.locator("#problems li")
    expect(bad).to_have_count(1, timeout=KEY_TIMEOUT)
    expect(bad.first).to_have_attribute("data-line", "4")
    expect(bad.first).to_contain_text("第 4 行：请核对证件号码")
    expect(bad.first).to_contain_text(f"no citizen with identifier {UNREGISTERED} is registered")
    expect(page.locator("#csv-error")).to_contain_text("本文件未签发任何证照")
    expect(page.locator("#issue-all")).to_be_hidden()
    screenshot(page, "counter-issue-dry-run-desktop-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    assert sum(len(r) for r in records_of(vault, people)) == 1  # the dry run wrote nothing

    # The corrected file: checked, then issued 50 a call while the bar moves.
    page.get_by_label(re.compile("^CSV 文件")).set_input_files(str(csv_file(tmp_path / "good.csv", bad_line=False)))
    expect(page.locator("#checked")).to_be_hidden()
    page.get_by_role("button", name="检查文件").click()
    expect(page.locator("#batch-status")).to_have_text(f"检查通过：{BATCH} 行都可以签发。", timeout=KEY_TIMEOUT)
    expect(page.locator("#checked")).to_be_hidden()
    page.evaluate(
        """() => {
            window.steps = [];
            new MutationObserver(() => window.steps.push(document.getElementById('progress').value))
                .observe(document.getElementById('progress'), {attributes: true, attributeFilter: ['value']});
        }"""
    )
    go = page.get_by_role("button", name=f"签发这 {BATCH} 份")
    expect(go).to_be_focused()
    page.keyboard.press("Enter")
    progress = page.get_by_label("签发进度")
    expect(progress).to_have_js_property("value", BATCH, timeout=KEY_TIMEOUT)
    expect(progress).to_have_js_property("max", BATCH)
    assert page.evaluate("window.steps") == [0, 50, 100, 120]
    result = page.locator("#result")
    expect(result).to_contain_text(f"已签发 {BATCH} 份证照。")
    screenshot(page, "counter-issue-progress-desktop-zh")
    vault.run(vault.harness.settle())
    expect(result).to_have_attribute("data-state", "anchored", timeout=KEY_TIMEOUT)
    expect(result).to_contain_text(f"全部 {BATCH} 份已上链。")
    anchor = page.locator("#anchors li").first
    expect(anchor).to_contain_text(re.compile(rf"上链交易 0x[0-9a-f]{{64}}（区块 \d+）：{BATCH} 份"))
    tx = anchor.locator("code").inner_text()
    screenshot(page, "counter-issue-anchored-desktop-zh")
    assert axe(page) == []

    # The citizens hold them, anchored in that transaction, the cells as the file had them.
    held = records_of(vault, people)
    batch = [r for person in held for r in person if r["id"] != record_id]
    assert len(batch) == BATCH and {r["anchor"]["tx_hash"] for r in batch} == {tx}
    assert [len(person) for person in held] == [1 + 40, 40, 40]
    first = next(r for r in held[0] if r["document"]["fields"].get("备注") == "第一行\n第二行")
    assert first["document"]["title"] == "居住证明"
    assert first["document"]["fields"]["住址"] == "福州市鼓楼区,五四路 1 号"  # the comma inside the quotes

    # On a phone, and in large text.
    page.set_viewport_size(PHONE)
    screenshot(page, "counter-issue-anchored-phone-zh")
    assert keyboard_gaps(page) == {}
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="大字模式").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    page.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 21")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "counter-issue-phone-zh-large")
    assert axe(page) == []
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Issue credentials")
    expect(page.get_by_role("link", name="Download a CSV template")).to_be_visible()
    expect(page.get_by_label("Name of item 1")).to_be_visible()
    screenshot(page, "counter-issue-phone-en-large")
    assert axe(page) == []
    assert console.errors == []
    context.close()
