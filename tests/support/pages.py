"""What the browser tests do again and again: make a key in the page, sign in with it, register
a counter department for it, and ask axe-core about the page as it is."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.served import Served

PASSWORD = "correct horse battery"
KEY_TIMEOUT = 180_000  # ms: scrypt at ethers' standard cost takes seconds alone, longer beside a busy suite


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (served by the vault, like every asset)."""
    page.add_script_tag(url="/vendor/axe.min.js")
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


def make_key(page: Page, url: str) -> str:
    """A new key made in this browser on the sign-in page; its address."""
    page.goto(url + "/signin")
    page.get_by_label("密钥密码", exact=True).nth(1).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="新建").click()
    shown = page.locator("#created-address")
    expect(shown).to_have_text(re.compile(r"^0x[0-9a-fA-F]{40}$"), timeout=KEY_TIMEOUT)
    return shown.inner_text()


def sign_in(page: Page, landing: str) -> None:
    """Signs in on the sign-in page with the last key made, and waits for ``landing``."""
    page.get_by_label("密钥密码", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="签名并登录").click()
    page.wait_for_url(f"**{landing}", timeout=KEY_TIMEOUT)


def counter_department(
    s: Served,
    address: str,
    code: str = "zhengwu",
    name: str = "政务服务中心",
    roles: tuple[str, ...] = ("verifier", "registrar", "data_user"),
) -> None:
    """The platform admin registers a counter department whose officer's key is ``address``."""
    h = s.harness

    async def register_it() -> None:
        body = {"code": code, "name": name, "roles": list(roles), "auth_address": address}
        r = await h.http.post("/departments", json=body, headers=h.admin.headers)
        assert r.status_code == 201, r.text
        await h.settle()

    s.run(register_it())
