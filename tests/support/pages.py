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


# Tab through the page as a keyboard user does; mark what took focus and whether it showed it.
_TAB_STEP = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return false;
  if (e.dataset.kbdReached) return false;
  e.dataset.kbdReached = "1";
  const style = getComputedStyle(e);
  const shows = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  if (!shows) e.dataset.kbdUnseen = "1";
  return true;
}"""
_UNREACHED = """() => {
  const visible = (e) => !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const controls = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")]
    .filter((e) => e.type !== "hidden" && visible(e));
  const label = (e) => (e.getAttribute("aria-label") || e.textContent || e.name || "").trim().slice(0, 30);
  const name = (e) => `${e.tagName.toLowerCase()}#${e.id || ""}[${label(e)}]`;
  const groupReached = (e) =>
    e.type === "radio" && [...document.getElementsByName(e.name)].some((r) => r.dataset.kbdReached);
  const unreached = controls.filter((e) => !e.dataset.kbdReached && !groupReached(e)).map(name);
  const unseen = controls.filter((e) => e.dataset.kbdUnseen).map(name);
  controls.forEach((e) => { delete e.dataset.kbdReached; delete e.dataset.kbdUnseen; });
  return { unreached, unseen };
}"""


def keyboard_gaps(page: Page, limit: int = 300) -> dict[str, list[str]]:
    """Every visible control is reached by Tab alone, and shows that it has the focus. Answers
    the controls that are not, and those that take the focus without showing it."""
    # Start where a keyboard user starts: the page's first control (the skip link). Blurring is
    # not enough: Chromium keeps tabbing from where the focus last was.
    # (Focus given by a script need not show: the first control's look is not judged.)
    page.evaluate(
        "(() => { const e = document.querySelector('a[href], button, input, select, textarea');"
        " e.focus(); e.dataset.kbdReached = '1'; })()"
    )
    misses = 0
    for _ in range(limit):
        page.keyboard.press("Tab")
        if not page.evaluate(_TAB_STEP):
            misses += 1
            # A date input takes several Tabs (year, month, day); more than that in a row without
            # a new control: back at the start.
            if misses > 6:
                break
        else:
            misses = 0
    gaps: dict[str, list[str]] = page.evaluate(_UNREACHED)
    return {k: v for k, v in gaps.items() if v}


def small_targets(page: Page, least: int = 48) -> list[str]:
    """The visible buttons and menu links smaller than ``least`` CSS pixels either way (the
    large-text mode promises 48 x 48)."""
    found: list[str] = page.evaluate(
        """(least) => [...document.querySelectorAll("button, .bar nav a")]
            .filter((e) => e.getClientRects().length > 0)
            .map((e) => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width < least || r.height < least)
            .map(([e, r]) => `${(e.textContent || "").trim().slice(0, 20)} ${r.width | 0}x${r.height | 0}`)""",
        least,
    )
    return found
