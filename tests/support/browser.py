"""A real browser for the page tests: Debian's Chromium (``make test`` installs it and names it
in DATAVAULT_TEST_CHROMIUM), driven by Playwright with nothing downloaded. Without it the page
tests fail loudly, as the PostgreSQL cases do: pages that are never tested are not supported."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
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


@contextmanager
def beside(running: Browser, *extra: str) -> Iterator[Browser]:
    """A second Chromium with more flags (a fake camera), from the Playwright that runs
    ``running``: one thread holds one synchronous Playwright."""
    launched = running.browser_type.launch(executable_path=chromium_path(), args=[*FLAGS, *extra])
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


def camera_showing(picture: bytes, path: Path) -> tuple[str, ...]:
    """Chromium's flags for a camera that films ``picture`` (a PNG): Chromium's fake capture
    device plays a Y4M file, so the picture becomes two seconds of 4:2:0 frames, centred on a
    white 640x480 field as a phone held up to the camera would be."""
    with Image.open(io.BytesIO(picture)) as shown:
        shown.thumbnail((440, 440))
        field = Image.new("RGB", (640, 480), "white")
        field.paste(shown.convert("RGB"), ((640 - shown.width) // 2, (480 - shown.height) // 2))
    y, cb, cr = field.convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(20):
            out.write(b"FRAME\n" + planes)
    return (
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={path}",
    )


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
