"""A citizen's first pages in a real browser (issue 11): a key made in the browser, registered at
the counter from its address, signing in by signing the challenge in the page, and the records
shown grouped by type. Each page at a phone's and a desktop's width, in both languages and in
large text, with no console error and no axe-core violation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_utils.hexadecimal import decode_hex
from playwright.sync_api import Browser, Page, expect

from keys import SigningKey
from tests.support.browser import DESKTOP, PHONE, Console, screenshot
from tests.support.harness import CITIZEN_ID
from tests.support.pages import (
    KEY_TIMEOUT,
    PASSWORD,
    axe,
    counter_department,
    keyboard_gaps,
    make_key,
    sign_in,
    small_targets,
)
from tests.support.served import Served
from vault import clock
from vault.accounts import admins

pytestmark = pytest.mark.integration


def register(s: Served, address: str) -> Any:
    """The registration counter registers the address the person showed, then issues a licence."""
    h = s.harness

    async def at_the_counter() -> Any:
        registrar = await h.department("gongan")
        body = {"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": address}
        r = await h.http.post("/subjects", json=body, headers=registrar.headers)
        assert r.status_code == 201, r.text
        licence = await h.issue(registrar)
        await h.issue(registrar, type="certificate", title="无犯罪记录证明", fields={"结论": "无犯罪记录"})
        reader = await h.department("renshe", roles=["data_user"], name="人社局")
        await h.settle()
        return licence, reader

    return s.run(at_the_counter())


def test_a_citizen_makes_a_key_is_registered_signs_in_and_sees_the_records(vault: Served, chromium: Browser) -> None:
    console = Console()
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    console.listen(page)

    page.goto(vault.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("数字保险箱")
    screenshot(page, "home-phone-zh")
    assert axe(page) == []

    page.get_by_role("link", name="登录").first.click()
    expect(page.get_by_text("本浏览器中还没有密钥。")).to_be_visible()
    # A file that is not a keystore is refused in words, and nothing is kept. (After "load":
    # the page's script listens for the file only once it has run.)
    page.wait_for_load_state("load")
    page.locator("#import-file").set_input_files(
        files=[{"name": "notes.json", "mimeType": "application/json", "buffer": b'{"version": 1}'}]
    )
    expect(page.get_by_role("status")).to_have_text("这不是密钥文件：请选择以太坊 keystore v3 格式的 .json 文件。")
    expect(page.get_by_text("本浏览器中还没有密钥。")).to_be_visible()
    address = make_key(page, vault.url)
    expect(page.locator("#created-qr")).to_have_attribute("src", f"/qr/address/{address}.svg")
    page.wait_for_function("document.getElementById('created-qr').naturalWidth > 0")
    screenshot(page, "signin-new-key-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []

    # The server never saw the key: only the address comes back to it, from the counter.
    (stored,) = json.loads(page.evaluate("localStorage.getItem('datavault.keystores')"))
    keystore = json.loads(stored["json"])
    assert (
        stored["address"] == address
        and keystore["version"] == 3
        and "ciphertext" in (keystore.get("crypto") or keystore["Crypto"])
    )

    licence, reader = register(vault, address)

    page.get_by_label("密钥密码", exact=True).first.fill("a wrong password")
    page.get_by_role("button", name="签名并登录").click()
    expect(page.get_by_role("status")).to_have_text("密码不对，或者密钥文件已损坏", timeout=KEY_TIMEOUT)
    page.get_by_label("密钥密码", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="签名并登录").click()
    page.wait_for_url("**/my", timeout=KEY_TIMEOUT)

    expect(page.get_by_role("heading", name="我的证照")).to_be_visible()
    expect(page.get_by_role("heading", name="证照 1")).to_be_visible()
    expect(page.get_by_role("heading", name="证明 1")).to_be_visible()
    card = page.locator(f"[data-record='{licence['id']}']")
    expect(card.get_by_role("heading", name="机动车驾驶证")).to_be_visible()
    expect(card.locator("dd").first).to_have_text("gongan bureau")  # the issuer's name, not its code
    expect(card).to_contain_text("已上链")
    screenshot(page, "my-records-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []

    # A record's detail, checked against the chain as any verifier would.
    card.get_by_role("link", name="机动车驾驶证", exact=True).click()
    expect(page.locator("dl.fields")).to_contain_text("准驾车型")
    expect(page.locator("dl.fields")).to_contain_text("C1")
    page.get_by_role("button", name="核验这份证照").click()
    expect(page.get_by_role("status")).to_have_text("这份证照有效：与链上记录一致", timeout=KEY_TIMEOUT)
    assert page.locator("#checks li.bad").count() == 0 and page.locator("#checks li").count() >= 3
    screenshot(page, "record-verified-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    page.get_by_role("link", name="我的数据").click()

    page.set_viewport_size(DESKTOP)
    screenshot(page, "my-records-desktop-zh")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="My credentials")).to_be_visible()
    page.get_by_role("link", name="Large text").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    # The class is in the new page's HTML; its style sheet may apply a moment later.
    page.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 24")
    assert small_targets(page) == []
    screenshot(page, "my-records-desktop-en-large")
    assert axe(page) == []
    page.set_viewport_size({"width": 360, "height": 800})  # a small phone, large text: no sideways scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name="中文").click()
    page.get_by_role("link", name="标准字号").click()
    grant_and_revoke(vault, page, reader)

    # The session is an HttpOnly cookie: the page's scripts cannot read it.
    assert "dv_session" not in page.evaluate("document.cookie")
    page.get_by_role("button", name="退出").click()
    page.goto(vault.url + "/my")
    page.wait_for_url("**/signin?next=/my")
    assert console.errors == []
    context.close()


def department_reads(s: Served, reader: Any, grant_id: str) -> Any:
    async def read() -> Any:
        return await s.harness.http.post(f"/grants/{grant_id}/read", json={}, headers=reader.headers)

    return s.run(read())


def grant_and_revoke(s: Served, page: Page, reader: Any) -> None:
    """The citizen grants 人社局 one field of the licence, in plain words, signed in the page;
    the department reads exactly that field; the citizen revokes; the next read is refused."""
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="我的授权").click()
    expect(page.get_by_role("heading", name="我的授权", level=1)).to_be_visible()
    page.get_by_label("授权给").select_option(label="人社局")
    page.get_by_role("checkbox", name="姓名").check()
    page.get_by_label("用途说明（只有你和该部门看得到）").fill("办理社保卡")
    page.get_by_label("有效天数").fill("10")
    page.get_by_label("最多使用次数").fill("2")
    expect(page.locator("#summary")).to_have_text(
        "人社局 可以在 10 天内读取你的 机动车驾驶证 中的：姓名，最多 2 次，用于：办理社保卡。"
    )
    # A long unbroken Latin purpose wraps at 360 px instead of widening the page.
    page.set_viewport_size({"width": 360, "height": 800})
    page.get_by_label("用途说明（只有你和该部门看得到）").fill("Sozialversicherungsausweisbeantragung" * 3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("用途说明（只有你和该部门看得到）").fill("办理社保卡")
    page.set_viewport_size(PHONE)
    screenshot(page, "grant-new-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    page.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="签名并授权").click()
    card = page.locator("li[data-grant]").first
    expect(card.get_by_role("heading", name="人社局")).to_be_visible(timeout=KEY_TIMEOUT)
    grant_id = card.get_attribute("data-grant")
    assert grant_id is not None
    s.run(s.harness.settle())
    # The signature made in the page is the one the consent registry checked and recorded.
    consent = s.harness.vault.ctx.chain.consent
    assert consent is not None
    assert consent.is_grant_active(decode_hex(grant_id))
    page.reload()
    expect(card).to_contain_text("有效")
    expect(card).to_contain_text("0 / 2")
    expect(card).to_contain_text("证照")  # the kinds of credential the grant covers
    with page.expect_download() as waiting:
        card.get_by_role("link", name="下载授权凭证").click()
    receipt = json.loads(Path(waiting.value.path()).read_text(encoding="utf-8"))
    assert receipt["grant_id"] == grant_id and receipt["fields"] == ["姓名"] and receipt["signature"].startswith("0x")

    read = department_reads(s, reader, grant_id)
    assert read.status_code == 200, read.text
    (record,) = read.json()["records"]
    assert record["fields"] == {"姓名": "张三"}  # 准驾车型 was not granted
    page.reload()
    expect(card).to_contain_text("1 / 2")
    screenshot(page, "grants-phone-zh")
    assert axe(page) == []
    who_read_it(s, page)
    # The home page puts the numbers that matter first, each a link to its list.
    page.get_by_role("link", name="我的数据").click()
    expect(page.locator(".greeting")).to_have_text("张*，你好")
    expect(page.get_by_role("link", name="1 个部门正在使用你的数据")).to_be_visible()
    page.get_by_role("link", name="本月被访问 1 次").click()
    page.wait_for_url("**/my/access")
    page.get_by_role("link", name="我的授权").click()

    # No password: said beside the field, nothing signed.
    card.get_by_role("button", name="撤销授权").click()
    expect(page.locator("#revoke-password-error")).to_have_text("请输入密钥密码")
    page.get_by_label("撤销时用的密钥密码").fill(PASSWORD)
    # One confirmation: the button asks, the second press revokes; the card says so in place.
    card.get_by_role("button", name="撤销授权").click()
    card.get_by_role("button", name="确认撤销").click()
    expect(card.locator(".done")).to_have_text("已撤销，立即生效", timeout=KEY_TIMEOUT)
    expect(card.locator(".status")).to_have_text("已撤销")
    expect(card.get_by_role("button")).to_have_count(0)
    assert department_reads(s, reader, grant_id).status_code == 403
    s.run(s.harness.settle())
    assert consent.grant_status(decode_hex(grant_id)).revoked  # revoked on chain, signed in the page
    page.set_viewport_size(DESKTOP)
    screenshot(page, "grants-revoked-desktop-zh")


def who_read_it(s: Served, page: Page) -> None:
    """使用知情: the department's read is listed with its purpose and fields, and once a tree
    head is anchored the page proves the entry itself against it; a changed entry does not."""
    h = s.harness

    async def anchor_a_head() -> None:
        await h.vault.sequencer.run_once(clock.now())
        await h.vault.sequencer.sign_head(clock.now())
        await h.settle()

    s.run(h.settle())  # the submitter's round writes the read into the log: not yet anchored
    page.get_by_role("link", name="使用知情").click()
    entry = page.locator("li.access").filter(has_text="按授权读取").first
    expect(entry.get_by_role("heading", name="人社局")).to_be_visible()
    expect(entry).to_contain_text("姓名")
    expect(entry).to_contain_text("办理政务服务")
    expect(entry).to_contain_text("成功")
    mine = page.locator("li.access").filter(has_text="建立授权").first
    expect(mine.get_by_role("heading", name="你本人")).to_be_visible()
    badge = entry.locator(".badge")
    expect(badge).to_have_text("待下一次上链")
    s.run(anchor_a_head())
    page.reload()
    expect(badge).to_have_text("已在链上证明")
    expect(entry).to_contain_text("交易 0x")
    screenshot(page, "access-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    tampered = page.evaluate(
        """() => {
            const b = document.querySelector('li.access .badge.proven');
            const proof = JSON.parse(b.dataset.proof);
            const li = b.closest('li.access');
            const proven = AccessLog.shownAsProven(li, b.dataset.entry);
            const shown = JSON.parse(li.dataset.shown);
            li.dataset.shown = JSON.stringify({...shown, fields: [...shown.fields, '准驾车型']});
            return [AccessLog.check(b.dataset.entry, proof),
                    AccessLog.check(b.dataset.entry.replace('"outcome":"', '"outcome":"x'), proof),
                    proven, AccessLog.shownAsProven(li, b.dataset.entry)];
        }"""
    )
    # A changed entry is not in the tree; a page showing more than the proven entry says is caught.
    assert tampered == [True, False, True, False]


def test_a_licence_shown_as_a_qr_code_is_verified_at_the_counter_from_its_picture(
    vault: Served, chromium: Browser, tmp_path: Path
) -> None:
    console = Console(expected=("status of 409",))  # the second enrolment, refused on purpose
    citizen = chromium.new_context(viewport=PHONE, locale="zh-CN")
    phone = citizen.new_page()
    console.listen(phone)
    address = make_key(phone, vault.url)

    # The counter's officer has a key of their own, in the counter's browser.
    desk = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    counter = desk.new_page()
    console.listen(counter)
    counter_department(vault, make_key(counter, vault.url))
    sign_in(counter, "/counter")
    expect(counter.get_by_role("heading", level=1)).to_have_text("窗口核验")

    # Enrolment at the registration counter, from the address the phone shows.
    counter.get_by_role("link", name="登记窗口").click()
    enrol = counter.locator("#enrol")
    enrol.get_by_label("市民（身份证号）").check()
    enrol.get_by_label("证件号码").fill(CITIZEN_ID)
    enrol.get_by_label("姓名或名称").fill("张三")
    enrol.get_by_label("对方密钥的地址").fill(address)
    enrol.get_by_role("button", name="登记").click()
    expect(counter.locator("#enrolled")).to_contain_text(f"已登记 张三，地址 {address}", timeout=KEY_TIMEOUT)
    screenshot(counter, "registrar-enrolled-desktop-zh")
    assert keyboard_gaps(counter) == {}
    assert axe(counter) == []
    counter.get_by_role("link", name="登记窗口").click()
    enrol = counter.locator("#enrol")
    enrol.get_by_label("证件号码").fill(CITIZEN_ID)
    enrol.get_by_label("姓名或名称").fill("张三")
    enrol.get_by_label("对方密钥的地址").fill(address)
    enrol.get_by_role("button", name="登记").click()
    # Already registered: a 409 headed in the reader's language, the vault's reason after it.
    expect(counter.get_by_role("status")).to_have_text(
        "与已有记录冲突（this subject is already registered）", timeout=KEY_TIMEOUT
    )
    assert "已登记" not in counter.locator("#enrolled").inner_text()
    licence = issue_licence(vault)
    sign_in(phone, "/my")

    phone.get_by_role("link", name="亮证 机动车驾驶证").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("亮证: 机动车驾驶证")
    # The name is ticked at first (what a counter usually needs); one line says what is seen.
    expect(phone.get_by_role("checkbox", name="姓名")).to_be_checked()
    expect(phone.locator("#sees")).to_contain_text("对方将看到：姓名；看不到：准驾车型")
    phone.get_by_label("密钥密码").fill(PASSWORD)
    phone.get_by_role("button", name="签名并生成二维码").click()
    code = phone.locator("#code")
    expect(code).to_be_visible(timeout=KEY_TIMEOUT)
    phone.wait_for_function("document.getElementById('code').naturalWidth > 0")
    expect(phone.locator("#left")).to_have_text(re.compile(r"^剩余 [45]:\d\d$"))
    expect(phone.locator("#show")).to_be_hidden()  # nothing else on the screen while the code is up
    first = code.get_attribute("src")
    phone.get_by_role("button", name="刷新").click()
    expect(code).not_to_have_attribute("src", first or "", timeout=KEY_TIMEOUT)
    phone.wait_for_function("document.getElementById('code').naturalWidth > 0")
    screenshot(phone, "show-qr-phone-zh")
    assert axe(phone) == []
    picture = tmp_path / "shown.png"
    code.screenshot(path=str(picture))  # what the counter's camera sees: the phone's screen

    counter.get_by_role("link", name="窗口核验").click()
    counter.get_by_label("二维码图片").set_input_files(str(picture))
    counter.get_by_role("button", name="核验").click()
    verdict = counter.locator("#verdict")
    expect(verdict.get_by_role("heading", name="核验通过")).to_be_visible(timeout=KEY_TIMEOUT)
    expect(counter.locator("#disclosed")).to_contain_text("姓名")
    expect(counter.locator("#disclosed")).to_contain_text("张三")
    expect(counter.locator("#disclosed")).not_to_contain_text("准驾车型")  # not chosen: not shown
    expect(counter.locator("#credential")).to_contain_text("机动车驾驶证")
    checks = counter.locator("#checks li")
    assert checks.count() >= 6
    assert counter.locator("#checks li.bad").count() == 0
    expect(counter.locator("li[data-check='holder_signature']")).to_contain_text("通过 · 持证人签名")
    screenshot(counter, "counter-verified-desktop-zh")
    assert keyboard_gaps(counter) == {}
    assert axe(counter) == []

    # The same picture again, by Enter on the picture input: a presentation is shown once.
    counter.get_by_label("二维码图片").press("Enter")
    expect(verdict.get_by_role("heading", name="核验不通过")).to_be_visible(timeout=KEY_TIMEOUT)
    replayed = counter.locator("li[data-check='not_replayed']")
    expect(replayed).to_have_class(re.compile("bad"))
    # In plain Chinese words, with what to do next; the vault's own reason below it.
    expect(replayed.locator("strong")).to_have_text("未通过 · 未被重复使用")
    expect(replayed.locator(".advice")).to_contain_text("请对方重新亮证")
    expect(replayed.locator(".reason")).to_contain_text("already")
    # A file that is not a picture is named as such, before the vault is asked.
    not_a_picture = tmp_path / "notes.txt"
    not_a_picture.write_text("not a picture", encoding="utf-8")
    counter.get_by_label("二维码图片").set_input_files(str(not_a_picture))
    counter.get_by_role("button", name="核验").click()
    expect(counter.get_by_role("status")).to_contain_text("这不是图片文件")
    expect(verdict).to_be_hidden()
    assert licence["id"]

    # The citizen lets the counter read one field; the counter reads it from its own page.
    phone.goto(vault.url + "/my/grants")
    phone.get_by_label("授权给").select_option(label="政务服务中心")
    phone.get_by_role("checkbox", name="姓名").check()
    phone.get_by_label("用途说明（只有你和该部门看得到）").fill("窗口办理居住证")
    phone.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="签名并授权").click()
    expect(phone.locator("li[data-grant]").first).to_contain_text("政务服务中心", timeout=KEY_TIMEOUT)
    vault.run(vault.harness.settle())
    counter.get_by_role("link", name="按授权读取").click()
    received = counter.locator("li[data-grant]").first
    expect(received).to_contain_text("窗口办理居住证")
    expect(received.get_by_role("heading")).to_have_text("证照：姓名")  # whose data: what it covers
    read_button = received.get_by_role("button", name="读取 证照：姓名（用途：窗口办理居住证")
    expect(read_button).to_be_visible()
    read_button.click()
    shown = received.locator(".disclosed")
    expect(shown).to_contain_text("机动车驾驶证", timeout=KEY_TIMEOUT)
    expect(shown).to_contain_text("张三")
    expect(shown).not_to_contain_text("准驾车型")
    expect(received).to_contain_text("1 / 1")  # the use counted, without a reload
    expect(received).to_contain_text("次数已用完")
    screenshot(counter, "counter-read-desktop-zh")
    assert keyboard_gaps(counter) == {}
    assert axe(counter) == []
    assert console.errors == []
    citizen.close()
    desk.close()


def issue_licence(s: Served) -> Any:
    """公安局 (an issuer of the harness's own) issues the enrolled citizen a driving licence."""
    h = s.harness

    async def issue() -> Any:
        issuer = await h.department("gongan", roles=["issuer"])
        licence = await h.issue(issuer)
        await h.settle()
        return licence

    return s.run(issue())


def test_an_auditor_traces_exports_and_verifies_the_log(vault: Served, chromium: Browser, tmp_path: Path) -> None:
    h = vault.harness
    register(vault, SigningKey.generate().address)

    async def anchor_a_head() -> None:
        await h.settle()
        await h.vault.sequencer.sign_head(clock.now())
        await h.settle()

    vault.run(anchor_a_head())
    console = Console()
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    console.listen(page)
    address = make_key(page, vault.url)

    async def appoint() -> None:
        r = await h.http.post("/auditors", json={"address": address, "name": "市审计局"}, headers=h.admin.headers)
        assert r.status_code == 201, r.text

    vault.run(appoint())
    sign_in(page, "/auditor")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计")
    expect(page.locator("li[data-size]").first).to_contain_text("已在链上证明")

    page.get_by_label("操作").fill("record.issued")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/auditor?*action=record.issued*")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("签发证照")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="导出 CSV").click()
    csv = Path(waiting.value.path()).read_text(encoding="utf-8").strip().splitlines()
    assert len(csv) == 3 and all("record.issued" in line for line in csv[1:]), csv

    page.get_by_role("button", name="开始核验").click()
    summary = page.locator("#report-summary")
    expect(summary).to_have_attribute("data-status", "verified", timeout=KEY_TIMEOUT)
    expect(page.locator("#findings li")).to_have_count(0)
    screenshot(page, "auditor-desktop-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    assert console.errors == []
    context.close()


def test_the_admin_adds_a_department_deactivates_it_and_appoints_an_auditor(vault: Served, chromium: Browser) -> None:
    h = vault.harness
    console = Console()
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    console.listen(page)
    address = make_key(page, vault.url)

    async def make_admin() -> None:
        async with h.vault.ctx.sessions.begin() as session:
            await admins.add(session, address, "平台管理员", clock.now())

    vault.run(make_admin())
    sign_in(page, "/admin")
    officer, auditor = SigningKey.generate().address, SigningKey.generate().address
    page.get_by_label("代码").fill("minzheng")
    page.get_by_label("名称", exact=True).first.fill("市民政局")
    page.get_by_role("checkbox", name="登记").check()
    page.get_by_label("经办人密钥地址").fill(officer)
    page.get_by_role("button", name="新增", exact=True).click()
    row = page.locator("tr[data-department='minzheng']")
    expect(row).to_contain_text("市民政局", timeout=KEY_TIMEOUT)
    expect(row).to_contain_text("在用")
    row.get_by_role("button", name="停用 市民政局").click()
    expect(page.locator("tr[data-department='minzheng']")).to_contain_text("已停用", timeout=KEY_TIMEOUT)

    page.get_by_label("名称", exact=True).last.fill("市审计局 审计员")
    page.get_by_label("审计员密钥地址").fill(auditor)
    page.get_by_role("button", name="任命审计员").click()
    expect(page.locator(f"li[data-auditor='{auditor}']")).to_contain_text("市审计局", timeout=KEY_TIMEOUT)
    screenshot(page, "admin-desktop-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []

    async def roster() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await h.http.get("/departments")).json()
        return found

    (minzheng,) = [d for d in vault.run(roster()) if d["code"] == "minzheng"]
    assert minzheng["roles"] == ["registrar"] and not minzheng["active"] and minzheng["auth_address"] == officer
    assert console.errors == []
    context.close()
