"""Run the `datavault` CLI against a harness's in-process API.

The CLI is synchronous (httpx.Client); the in-process app is served by the test's event loop.
The CLI therefore runs in a worker thread, and each of its requests is handed to the harness's
async client on the loop, so the command sees exactly the answers a real server would give.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api import cli
from api.client import VaultClient
from tests.support.harness import Harness

TIMEOUT = 60.0


class _Bridge(httpx.BaseTransport):
    def __init__(self, http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.http = http
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=request.read())

        async def send() -> httpx.Response:
            answer = await self.http.send(forwarded)
            await answer.aread()
            return answer

        answer = asyncio.run_coroutine_threadsafe(send(), self.loop).result(TIMEOUT)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def _factory(h: Harness, loop: asyncio.AbstractEventLoop) -> Callable[[Any], Callable[[], VaultClient]]:
    return lambda _args: lambda: VaultClient("http://vault.test", transport=_Bridge(h.http, loop))


async def run_cli(
    h: Harness,
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """``datavault --datadir <h.datadir> *argv`` against ``h``: (exit code, stdout, stderr)."""
    factory = _factory(h, asyncio.get_running_loop())
    # Every CLI module imported `client_factory` by name; each gets the bridge.
    for name, module in list(sys.modules.items()):
        if name.startswith("api.cli") and hasattr(module, "client_factory"):
            monkeypatch.setattr(module, "client_factory", factory)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return cli.main(["--datadir", str(h.datadir), *argv])

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()
