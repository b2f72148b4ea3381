"""Erasure in a real browser: a citizen erases one credential from its page after reading what
erasure means and ticking "I understand"; then erases the whole file, the page first revoking the
live grant with a signature made in the page by the citizen's own key (checked on chain), with
no console error and no axe-core violation."""

from __future__ import annotations

import pytest
from eth_utils.hexadecimal import decode_hex
from playwright.sync_api import Browser, expect

from tests.integration.web.test_citizen_pages import register
from tests.support.browser import PHONE, Console, screenshot
from tests.support.pages import KEY_TIMEOUT, PASSWORD, axe, keyboard_gaps, make_key, sign_in
from tests.support.served import Served

pytestmark = pytest.mark.integration


def test_a_citizen_erases_a_credential_then_the_whole_file(vault: Served, chromium: Browser) -> None:
    console = Console()
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    console.listen(page)
    address = make_key(page, vault.url)
    licence, _reader = register(vault, address)
    sign_in(page, "/my")

    # One credential: what erasing means first, then the tick, then the red button.
    certificate = page.locator("li[data-record]").filter(has_text="无犯罪记录证明")
    certificate.get_by_role("link", name="无犯罪记录证明", exact=True).click()
    section = page.locator("section.erase")
    expect(section).to_contain_text("不能撤销，也不能恢复。")
    expect(section).to_contain_text("区块链上只留下哈希值")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    section.get_by_role("button", name="永久删除这份证照").click()
    expect(page.locator("#erase-understand-error")).to_have_text("请先勾选“我已了解：删除后无法恢复”。")
    section.get_by_label("我已了解：删除后无法恢复").check()
    section.get_by_role("button", name="永久删除这份证照").click()
    page.wait_for_url("**/my/erasures")
    expect(page.locator("#status")).to_have_text("已删除，密钥已销毁。")
    expect(page.locator("li[data-erasure]")).to_have_count(1)
    expect(page.locator("li[data-erasure]")).to_contain_text("本人申请删除")

    # A grant, signed in the page, so that the whole file has one to revoke first.
    page.get_by_role("link", name="我的授权").click()
    page.get_by_label("授权给").select_option(label="人社局")
    page.get_by_role("checkbox", name="姓名").check()
    page.get_by_label("用途说明（只有你和该部门看得到）").fill("办理社保卡")
    page.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="签名并授权").click()
    card = page.locator("li[data-grant]").first
    expect(card.get_by_role("heading", name="人社局")).to_be_visible(timeout=KEY_TIMEOUT)
    grant_id = card.get_attribute("data-grant")
    assert grant_id is not None
    vault.run(vault.harness.settle())
    consent = vault.harness.vault.ctx.chain.consent
    assert consent is not None and consent.is_grant_active(decode_hex(grant_id))

    page.get_by_role("link", name="删除数据").click()
    expect(page.locator(f".live-grants li[data-grant='{grant_id}']")).to_contain_text("人社局")
    screenshot(page, "erasure-file-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    form = page.locator("#erase-file")
    form.get_by_role("button", name="永久删除整个档案").click()
    expect(page.locator("#erase-password-error")).to_have_text("请输入密钥密码")
    form.get_by_label("密钥密码（用于签名撤销授权）").fill(PASSWORD)
    form.get_by_label("我已了解：删除后无法恢复").check()
    form.get_by_role("button", name="永久删除整个档案").click()
    expect(page.locator("#status")).to_have_text("整个档案已删除，密钥已销毁。", timeout=KEY_TIMEOUT)
    expect(page.locator("#erase-file")).to_have_count(0)
    expect(page.locator("li[data-erasure]").first).to_contain_text("整个档案")
    vault.run(vault.harness.settle())
    assert consent.grant_status(decode_hex(grant_id)).revoked  # signed in the page, by the citizen's key
    assert licence["id"] in page.locator("li[data-erasure]").first.inner_text()
    assert axe(page) == []
    assert console.errors == []
    context.close()
