"""`datavault up --workers N`: several processes answering on one listening socket.

One Python process answers on one core. With PostgreSQL the vault already expects company:
login challenges live in the database, and the submitter and the access log's sequencer each
hold a PostgreSQL advisory lock, so however many workers run, one of them sends every
transaction and appends every log entry. SQLite is one writer's file and a node the vault
starts belongs to one process, so workers need PostgreSQL and a chain reached by URL.

The parent binds the socket, migrates the database and deploys the contracts once (workers
started side by side on a new database would each deploy), then starts the workers, starts
again any that dies, and stops them all on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess

from api import logging_setup
from api.server import (
    STOP_SIGNALS,
    StartError,
    base_url,
    listen,
    open_or_explain,
    remove_api_file,
    say,
    serve_on,
    write_api_file,
)
from vault.config import Settings

log = logging.getLogger("api.workers")
MAX_WORKERS = 64
# A worker that dies this soon after it started is failing to start, not crashing under load:
# starting it again at once would spin.
RESTART_PAUSE = 1.0


def check(settings: Settings, workers: int) -> None:
    """Refuses, in words an operator can act on, a worker count this vault cannot run."""
    if not 1 <= workers <= MAX_WORKERS:
        raise StartError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
    if workers == 1:
        return
    if not settings.db_url.startswith("postgresql"):
        raise StartError(
            "--workers needs PostgreSQL (DATAVAULT_DATABASE_URL or --database-url): SQLite serves one process"
        )
    if settings.chain != "rpc":
        raise StartError(
            f"--workers needs a chain reached by URL (--chain rpc --rpc-url ...): the {settings.chain} "
            "node a vault starts belongs to one process"
        )


async def _prepare(settings: Settings) -> None:
    """Migrate, create the admin, deploy: once, before any worker opens the vault."""
    opened = await open_or_explain(settings)
    await opened.close()


def _worker(settings: Settings, sock: socket.socket) -> None:
    logging_setup.configure(settings.log_level, settings.log_format)
    # Ctrl-C in the terminal reaches every process of the group; each worker stops itself
    # gracefully (uvicorn's handler), and the parent waits for them.
    asyncio.run(serve_on(settings, sock, demo=False, announce=False))


def serve_workers(settings: Settings, *, host: str, port: int, workers: int) -> int:
    check(settings, workers)
    logging_setup.configure(settings.log_level, settings.log_format)
    sock = listen(host, port)
    try:
        asyncio.run(_prepare(settings))
        return _supervise(settings, sock, workers)
    finally:
        sock.close()


def _supervise(settings: Settings, sock: socket.socket, workers: int) -> int:
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start(index: int) -> BaseProcess:
        process = spawn.Process(target=_worker, args=(settings, sock), name=f"datavault-worker-{index}")
        process.start()
        return process

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    original = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    processes = [start(i) for i in range(workers)]
    url = base_url(sock)
    write_api_file(settings.datadir, url)
    say(f"\n数字保险箱 data vault is up: {url}  ({workers} workers; pages {url}/ , API docs {url}/docs)")
    try:
        while not stop.wait(RESTART_PAUSE):
            for index, process in enumerate(processes):
                if not process.is_alive() and not stop.is_set():
                    log.warning("worker %s exited with %s; starting it again", index, process.exitcode)
                    processes[index] = start(index)
    finally:
        _stop_all(processes)
        remove_api_file(settings.datadir)
        for sig, handler in original.items():
            signal.signal(sig, handler)
    return 0


def _stop_all(processes: list[BaseProcess], grace: float = 15.0) -> None:
    """Ctrl-C reached the workers already (one process group); a SIGTERM sent to the parent
    alone did not. They get two seconds to stop by themselves, then SIGTERM (uvicorn's
    graceful stop: requests in progress finish), then, past ``grace``, SIGKILL."""
    deadline = time.monotonic() + grace
    by_themselves = time.monotonic() + 2.0
    for process in processes:
        process.join(timeout=max(0.0, by_themselves - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.warning("worker %s did not stop in %.0f s; killing it", process.name, grace)
            process.kill()
            process.join()
