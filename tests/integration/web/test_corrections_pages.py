"""Corrections (纠错) in a real browser (issue 11): a citizen asks from the record's page; the
issuing department's officer, with a key of their own in another browser, rejects one request
(first without a reason, which the page says beside the field) and accepts another; the citizen
sees 已驳回 with the reason, then 已更正 and the corrected record; a department that read the
record under a grant gets a notice and marks it read. Phone and desktop widths, no console
error, no axe-core violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api import cookies
from keys import SigningKey
from tests.support.browser import DESKTOP, PHONE, Console, screenshot
from tests.support.harness import CITIZEN_ID, Actor
from tests.support.pages import KEY_TIMEOUT, PASSWORD, axe, counter_department, keyboard_gaps, make_key, sign_in
from tests.support.served import Served

pytestmark = pytest.mark.integration


def session_of(context: BrowserContext) -> str:
    (token,) = [c["value"] for c in context.cookies() if c["name"] == cookies.SESSION]
    return token


def enrol_and_issue(s: Served, citizen: str, officer_token: str) -> tuple[dict[str, Any], Actor]:
    """The registration counter (公安局) enrols the citizen; 交管局, the officer's department,
    issues the licence (through the API, with the session its officer signed in with); 人社局
    is a data user, to read it under a grant later."""
    h = s.harness

    async def at_the_counters() -> tuple[dict[str, Any], Actor]:
        registrar = await h.department("gongan", roles=["registrar"], name="公安局")
        body = {"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": citizen}
        r = await h.http.post("/subjects", json=body, headers=registrar.headers)
        assert r.status_code == 201, r.text
        licence = await h.issue(Actor(SigningKey.generate(), officer_token))
        reader = await h.department("renshe", roles=["data_user"], name="人社局")
        await h.settle()  # anchored: an accepted correction revokes this version on chain
        return licence, reader

    return s.run(at_the_counters())


def narrowest(page: Page) -> None:
    """Readable on a 360 px phone: nothing wider than the screen, so no sideways scrolling."""
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    if size is not None:
        page.set_viewport_size(size)


def ask(page: Page, value: str, reason: str) -> None:
    page.get_by_label("哪一项有误").select_option("准驾车型")
    page.get_by_label("正确的内容").fill(value)
    page.get_by_label("原因说明（签发部门会看到）").fill(reason)
    page.get_by_role("button", name="提交纠错申请").click()


def test_a_citizen_asks_for_corrections_the_issuer_rejects_one_and_accepts_another(
    vault: Served, chromium: Browser
) -> None:
    h = vault.harness
    console = Console(expected=("status of 422",))  # the missing reasons, refused on purpose
    phone_context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    phone = phone_context.new_page()
    console.listen(phone)
    address = make_key(phone, vault.url)

    desk_context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    desk = desk_context.new_page()
    console.listen(desk)
    counter_department(vault, make_key(desk, vault.url), "jiaoguan", "交管局", ("issuer", "verifier"))
    sign_in(desk, "/counter")
    licence, reader = enrol_and_issue(vault, address, session_of(desk_context))

    # The citizen asks, from the record's page; a request without a reason is told what to write.
    phone.goto(vault.url + "/signin")
    sign_in(phone, "/my")
    phone.get_by_role("link", name="机动车驾驶证", exact=True).click()
    expect(phone.get_by_role("heading", name="申请纠错")).to_be_visible()
    ask(phone, "C2", "")
    reason_error = phone.locator("#corr-reason-error")
    expect(reason_error).to_contain_text("请写明原因")
    expect(phone.get_by_label("原因说明（签发部门会看到）")).to_have_attribute("aria-invalid", "true")
    screenshot(phone, "correction-ask-error-phone-zh")
    assert axe(phone) == []
    ask(phone, "C2", "驾驶证增驾后应为 C2")
    expect(phone.locator("#corr-status")).to_have_text("已提交，等待签发部门处理。可在“我的纠错”中查看进度。")
    expect(reason_error).to_be_empty()
    phone.reload()
    expect(phone.get_by_text("这份证照已有一份待处理的纠错申请")).to_be_visible()
    screenshot(phone, "correction-asked-phone-zh")
    assert keyboard_gaps(phone) == {}
    assert axe(phone) == []

    # The issuing department sees it, with the value now and the value asked; a rejection
    # without a reason is told beside the field what to write; with one, it is rejected.
    desk.get_by_role("link", name="纠错与通知").click()
    expect(desk.get_by_role("heading", name="纠错与通知", level=1)).to_be_visible()
    expect(desk.locator("#waiting-count")).to_have_text("待处理 1 件")
    card = desk.locator("li[data-correction]").first
    expect(card).to_contain_text("驾驶证增驾后应为 C2")
    row = card.locator("table.changes tbody tr")
    expect(row.locator("th")).to_have_text("准驾车型")
    expect(row.locator("td")).to_have_text(["C1", "C2"])
    card.get_by_role("button", name="驳回").click()
    note = card.get_by_label("驳回理由（申请人会看到）")
    expect(card.locator(".field-error")).to_contain_text("请写明驳回理由")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_be_focused()
    screenshot(desk, "counter-corrections-error-desktop-zh")
    assert axe(desk) == []
    # With a long unbroken Latin word (a link), which must wrap on a 360 px phone (narrowest).
    note.fill("档案记载为 C1，请携带增驾材料到窗口办理 https://zwfw.example.gov.cn/zengjia/cailiaoqingdan/C1C2shuoming")
    card.get_by_role("button", name="驳回").click()
    expect(card.locator(".status-line")).to_have_text("已驳回，申请人会看到你的理由。")
    expect(card.locator(".badge")).to_have_text("已驳回")

    # The citizen reads the decision and its reason.
    phone.get_by_role("link", name="我的纠错", exact=True).click()
    expect(phone.get_by_role("heading", name="我的纠错申请", level=1)).to_be_visible()
    mine = phone.locator("li[data-correction]").first
    expect(mine.locator(".badge")).to_have_text("已驳回")
    expect(mine).to_contain_text("档案记载为 C1，请携带增驾材料到窗口办理")
    expect(mine).to_contain_text("准驾车型：C2")
    screenshot(phone, "my-corrections-rejected-phone-zh")
    assert axe(phone) == []

    # 人社局 reads the licence under a grant the citizen signs in the page.
    phone.get_by_role("link", name="我的授权").click()
    phone.get_by_label("授权给").select_option(label="人社局")
    phone.get_by_role("checkbox", name="准驾车型").check()
    phone.get_by_label("用途说明（只有你和该部门看得到）").fill("核验驾驶资格")
    phone.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="签名并授权").click()
    granted = phone.locator("li[data-grant]").first
    expect(granted).to_contain_text("人社局", timeout=KEY_TIMEOUT)
    grant_id = granted.get_attribute("data-grant")

    async def read_it() -> Any:
        await h.settle()
        return await h.http.post(f"/grants/{grant_id}/read", json={}, headers=reader.headers)

    read = vault.run(read_it())
    assert read.status_code == 200 and read.json()["records"][0]["fields"] == {"准驾车型": "C1"}, read.text

    # A second request, accepted in one click: version 2 is issued with the value asked.
    phone.goto(f"{vault.url}/my/records/{licence['id']}")
    ask(phone, "C2", "已在窗口提交增驾材料")
    expect(phone.locator("#corr-status")).to_contain_text("已提交")
    desk.reload()
    expect(desk.locator("#waiting-count")).to_have_text("待处理 1 件")
    card = desk.locator("li[data-correction]").first  # waiting first
    expect(card).to_contain_text("已在窗口提交增驾材料")
    expect(desk.locator("li[data-correction]").nth(1).locator(".badge")).to_have_text("已驳回")
    screenshot(desk, "counter-corrections-desktop-zh")
    assert keyboard_gaps(desk) == {}
    card.get_by_role("button", name="受理并更正").click()
    expect(card.locator(".status-line")).to_have_text("已受理：第 2 版已签发，上链后生效，旧版本已作废。")
    expect(card.locator(".badge")).to_have_text("已更正")
    desk.set_viewport_size(PHONE)
    desk.reload()
    expect(desk.locator("li[data-correction]").first.locator(".badge")).to_have_text("已更正")
    expect(desk.locator("li[data-correction]").first).to_contain_text("已签发第 2 版")
    screenshot(desk, "counter-corrections-phone-zh")
    assert axe(desk) == []
    narrowest(desk)

    # The citizen sees 已更正 and, one tap away, the corrected record with the new value.
    phone.get_by_role("link", name="我的纠错", exact=True).click()
    mine = phone.locator("li[data-correction]").first
    expect(mine.locator(".badge")).to_have_text("已更正")
    expect(phone.locator("li[data-correction]").nth(1).locator(".badge")).to_have_text("已驳回")
    screenshot(phone, "my-corrections-phone-zh")
    assert keyboard_gaps(phone) == {}
    assert axe(phone) == []
    narrowest(phone)
    mine.get_by_role("link", name="查看更正后的证照（第 2 版）").click()
    phone.wait_for_url(f"**/my/records/{licence['id']}")
    fields = phone.locator("dl.fields")
    expect(fields.locator("div").filter(has_text="准驾车型").locator("dd")).to_have_text("C2")
    phone.set_viewport_size(DESKTOP)
    phone.get_by_role("link", name="我的纠错", exact=True).click()
    screenshot(phone, "my-corrections-desktop-zh")

    # 人社局, which read version 1, is told; it marks the notice read.
    reader_context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    reader_context.add_cookies([{"name": cookies.SESSION, "value": reader.token, "url": vault.url}])
    office = reader_context.new_page()
    console.listen(office)
    office.goto(vault.url + "/counter/corrections")
    expect(office.locator("#unread-count")).to_have_text("未读 1 条")
    notice = office.locator("li.notice").first
    expect(notice).to_have_class("notice unread")
    expect(notice).to_contain_text("已由第 1 版更正为第 2 版")
    expect(notice.locator(".badge")).to_have_text("未读")
    screenshot(office, "counter-notices-phone-zh")
    assert axe(office) == []
    notice.get_by_role("button", name="标为已读").click()
    expect(office.get_by_role("status")).to_have_text("已标为已读。")
    expect(notice.locator(".badge")).to_have_text("已读")
    expect(office.locator("#unread-count")).to_be_empty()
    office.reload()
    expect(office.locator("li.notice").first).to_have_class("notice")
    expect(office.get_by_role("button", name="标为已读")).to_have_count(0)
    office.set_viewport_size(DESKTOP)
    screenshot(office, "counter-notices-desktop-zh")
    assert keyboard_gaps(office) == {}
    assert axe(office) == []
    office.get_by_role("link", name="English").click()
    expect(office.get_by_role("heading", level=1)).to_have_text("Corrections and notices")
    expect(office.locator("li.notice").first).to_contain_text("corrected from version 1 to version 2")
    screenshot(office, "counter-notices-desktop-en")
    assert axe(office) == []
    assert console.errors == []
    for context in (phone_context, desk_context, reader_context):
        context.close()
