"""Demo keys (issue 11): a vault seeded with ``datavault demo`` offers its sample people's keys
at /demo; one click puts 张三's into the browser, and he signs in with the published password
and sees the demo's records. A vault never seeded has no such page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from api import demo_keys
from api.client import VaultClient
from api.demo import seed
from tests.support.browser import PHONE, Console, screenshot
from tests.support.served import Served
from vault import clock
from vault.accounts import admins

pytestmark = pytest.mark.integration


def seeded(s: Served) -> None:
    """``datavault demo`` against the served vault: its admin key in the keystore, registered."""
    store = s.harness.vault.ctx.keystore
    address = store.create("admin")

    async def make_admin() -> None:
        async with s.harness.vault.ctx.sessions.begin() as session:
            await admins.add(session, address, "demo admin", clock.now())

    s.run(make_admin())
    seed(lambda: VaultClient(s.url), store, lambda _line: None, lambda: s.run(s.harness.settle()))
    s.run(s.harness.settle())


def test_without_the_demo_there_is_no_demo_page(vault: Served, chromium: Browser) -> None:
    page = chromium.new_page()
    page.goto(vault.url + "/")
    expect(page.get_by_role("link", name="演示密钥：一键体验示例市民、企业和部门")).to_have_count(0)
    assert page.goto(vault.url + "/demo").status == 404  # type: ignore[union-attr]
    page.close()


def test_a_demo_key_goes_into_the_browser_and_signs_in(vault: Served, chromium: Browser) -> None:
    seeded(vault)
    people = demo_keys.listed(vault.harness.datadir)
    assert {p["name"] for p in people} >= {"citizen-zhang-san", "enterprise-minjiang", "dept-gongan", "auditor"}
    assert not any(p["name"] in ("admin", "audit-log") for p in people)  # the platform's keys stay home

    console = Console()
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    console.listen(page)
    page.goto(vault.url + "/")
    page.get_by_role("link", name="演示密钥：一键体验示例市民、企业和部门").click()
    expect(page.locator("#demo-password")).to_have_text(demo_keys.PASSWORD)
    page.wait_for_load_state("load")  # the button does something once the page's script has run
    page.get_by_role("button", name="放进本浏览器 张三").click()
    expect(page.get_by_role("status")).to_contain_text("已放进本浏览器")
    screenshot(page, "demo-keys-phone-zh")

    page.goto(vault.url + "/signin")
    page.get_by_label("密钥密码", exact=True).first.fill(demo_keys.PASSWORD)
    page.get_by_role("button", name="签名并登录").click()
    page.wait_for_url("**/my", timeout=60_000)
    expect(page.get_by_role("heading", name="机动车驾驶证")).to_be_visible()
    assert console.errors == []
    context.close()
