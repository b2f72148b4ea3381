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
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import cli
from api.client import VaultClient
from keys import Keystore, MasterKey
from tests.support.harness import Actor, Harness, open_harness
from vault.config import Settings

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


class _Terminal(io.StringIO):
    """Standard input typed at a terminal (for commands that ask before doing something)."""

    def isatty(self) -> bool:
        return True


async def run_cli(
    h: Harness,
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
    tty: bool = False,
) -> tuple[int, str, str]:
    """``datavault --datadir <h.datadir> *argv`` against ``h``: (exit code, stdout, stderr);
    with ``tty``, ``stdin`` is typed at a terminal."""
    factory = _factory(h, asyncio.get_running_loop())
    # Every CLI module imported `client_factory` by name; each gets the bridge.
    for name, module in list(sys.modules.items()):
        if name.startswith("api.cli") and hasattr(module, "client_factory"):
            monkeypatch.setattr(module, "client_factory", factory)
    monkeypatch.setattr(sys, "stdin", _Terminal(stdin) if tty else io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return cli.main(["--datadir", str(h.datadir), *argv])

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(name="harness")
async def vault_of_its_own(tmp_path: Path) -> AsyncIterator[Harness]:
    """``harness``: a vault with a data directory of its own, whose keystore the CLI reads
    (``keep_key``), on the in-process chain."""
    h = await open_harness(tmp_path / "vault", chain="inprocess")
    yield h
    await h.close()


def keep_key(h: Harness, name: str, actor: Actor) -> None:
    """Put an actor's key in the vault's keystore, where the CLI's --as finds it."""
    store = Keystore(h.datadir / "keystore", MasterKey.load(Settings(datadir=h.datadir).master_key_file))
    store.import_key(name, bytes(actor.key.account.key).hex())
