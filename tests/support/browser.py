"""A real browser for the page tests: Debian's Chromium (``make test`` installs it and names it
in DATAVAULT_TEST_CHROMIUM), driven by Playwright with nothing downloaded. Without it the page
tests fail loudly, as the PostgreSQL cases do: pages that are never tested are not supported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

ENV = "DATAVAULT_TEST_CHROMIUM"
# A page's answer comes from a vault that shares two cores with the rest of the suite: wait for
# it as long as a loaded machine needs, not Playwright's 5 s.
expect.set_options(timeout=60_000)
# Chromium as the machine lets it run: headless, no sandbox (root in CI), and none of its
# background connections to hosts this machine cannot reach.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Timers at full speed whatever the load: scrypt in ethers yields through them, and a
    # renderer judged to be in the background would stretch a key's two seconds to minutes.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    path = os.environ.get(ENV) or "/usr/bin/chromium"
    if not Path(path).is_file():
        raise RuntimeError(f"no Chromium at {path}: run the page tests with `make test`, which installs it ({ENV})")
    return path


@contextmanager
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Console:
    """What the page said on its console: errors fail a test."""

    errors: list[str] = field(default_factory=list)
    # Answers a test provokes on purpose (a refusal the page shows): the browser logs them.
    expected: tuple[str, ...] = ()

    def listen(self, page: Page) -> None:
        def heard(message: ConsoleMessage) -> None:
            if message.type == "error" and not any(e in message.text for e in self.expected):
                self.errors.append(message.text)

        page.on("console", heard)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
