"""A vault served on a real socket, for a real browser: the harness and uvicorn run on an event
loop of their own in a thread, so that a test (and Playwright's synchronous API) can run in
the main thread and reach the vault both ways, through the browser and through ``run``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from api.server import listen
from tests.support.harness import Harness, open_harness

T = TypeVar("T")


@dataclass
class Served:
    harness: Harness
    url: str
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Runs ``coro`` on the vault's loop (harness calls: departments, issuance, settle)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@contextmanager
def served(datadir: Path, **harness: Any) -> Iterator[Served]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="served-vault", daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    h = run(open_harness(datadir, **harness))
    sock = listen("127.0.0.1", 0)  # the vault's own listening socket: TCP, so Nagle is off
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(h.app, log_level="warning", lifespan="on"))
    serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), loop)
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped it
            threading.Event().wait(0.02)
        yield Served(h, f"http://127.0.0.1:{port}", loop)
    finally:
        server.should_exit = True
        serving.result(30)
        run(h.close())
        sock.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
