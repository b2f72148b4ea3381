"""`datavault up`: lock the data directory, open the vault, make sure an admin exists, serve.

Everything that can fail for an operator's reason (port taken, vault already running, chain or
database unreachable) fails before the first request with a ``StartError`` or the vault's own
error, so the CLI can say it in one line instead of a traceback from inside the ASGI server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Self

import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api import logging_setup
from api.app import create_app
from api.client import VaultClient, api_file, command
from api.guards import host_names
from keys import Keystore
from vault import clock
from vault.accounts import admins
from vault.config import Settings
from vault.db.engine import create_engine, session_factory
from vault.db.migrate import upgrade
from vault.setup import OpenVault, open_vault

ADMIN_KEY = "admin"
LOCK_FILE = "datavault.lock"
# The signals that stop a running vault, gracefully, in the server and in the workers'
# supervisor (api.workers) alike: Ctrl-C, SIGTERM, and SIGHUP (the terminal closed) where the
# platform has it.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM) + (
    (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
)
DEMO_LOGIN = "citizen-zhang-san"


class StartError(Exception):
    """The vault cannot start, for a reason the operator can act on."""


def say(text: str) -> None:
    # Flushed: under `make run | tee` or a test's pipe, stdout is block-buffered and the
    # "up at URL" line would otherwise only appear when the server exits.
    print(text, flush=True)


class DataDirLock:
    """An exclusive lock on the data directory, held while a vault runs from it.

    Two servers on one data directory would both send transactions as the same operator
    (nonce clashes), write one SQLite file, and each would stop the other's anvil as a node
    "left behind by a crashed run". The kernel drops the lock when the holder dies, even by
    kill -9, so a crash never leaves the directory locked. The file is never deleted: a
    process that opened it just before the deletion would lock an orphaned inode.
    """

    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir
        self.path = datadir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StartError(f"cannot use data directory {self.datadir}: {exc.strerror or exc}") from None
        try:
            _lock_exclusive(fd)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            where = _running_url(self.datadir)
            raise StartError(
                f"a vault is already running from {self.datadir}"
                + (f" (pid {holder}" + (f", {where})" if where else ")") if holder else "")
                + "; stop it first (Ctrl-C in its terminal) or use another --datadir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock_exclusive(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock_exclusive(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or "x")
    except (OSError, ValueError, AttributeError):
        return None


def _running_url(datadir: Path) -> str | None:
    try:
        url = json.loads(api_file(datadir).read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return url if isinstance(url, str) else None


def owns_datadir(settings: Settings) -> bool:
    """Whether this vault keeps single-writer state in the data directory.

    With PostgreSQL and an external chain the data directory holds only keys, and several
    API workers may share it (the submitter's leader lock keeps one nonce owner).
    """
    return settings.db_url.startswith("sqlite") or settings.chain in ("anvil", "hardhat")


@contextlib.contextmanager
def _datadir_lock(settings: Settings) -> Iterator[None]:
    if not owns_datadir(settings):
        yield
        return
    with DataDirLock(settings.datadir):
        yield


@contextlib.contextmanager
def _database_errors(settings: Settings) -> Iterator[None]:
    try:
        yield
    except (OSError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StartError(f"cannot open the database {_safe_url(settings.db_url)}: {reason}") from None


async def bootstrap_admin(settings: Settings) -> str:
    """Create the admin login key and register it, once. Returns the admin address."""
    settings.datadir.mkdir(parents=True, exist_ok=True)
    store = Keystore(settings.keystore_dir, settings.load_master_key(create=True))
    address = store.address_of(ADMIN_KEY) if store.exists(ADMIN_KEY) else store.create(ADMIN_KEY)
    with _database_errors(settings):
        db = create_engine(settings.db_url)
        try:
            await upgrade(db)
            async with session_factory(db).begin() as session:
                if await admins.count(session) == 0:
                    await admins.add(session, address, "governance admin", clock.now())
        finally:
            await db.dispose()
    return address


def admin_init(settings: Settings) -> str:
    with _datadir_lock(settings):
        return asyncio.run(bootstrap_admin(settings))


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: any free port), before anything slow is started."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise StartError(f"cannot listen on {host!r}: {getattr(exc, 'strerror', None) or exc}") from None
    family, _type, _proto, _name, address = infos[0]
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on an accepted connection only when its
    # socket says TCP, and without it every answer after the first on a kept-alive connection
    # waits some 40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # Lets a restart reuse the port at once while old connections sit in TIME_WAIT; it
        # does not let two live listeners share it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartError(f"port {port} on {host} is already in use; choose another with --port") from None
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def base_url(sock: socket.socket) -> str:
    """The URL clients on this machine use: a wildcard bind is reached through loopback."""
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = "::1" if host == "::" else host
        return f"http://[{host}]:{port}"
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal once it has shut down.

    uvicorn re-raises SIGINT/SIGTERM after a graceful shutdown; under SIGTERM that kills the
    process before ``serve`` has stopped the chain node and released the data directory.
    SIGHUP (the terminal closed) stops the vault the same way.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def write_api_file(datadir: Path, url: str) -> None:
    path = api_file(datadir)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    os.replace(tmp, path)  # a CLI never reads a half-written file


def remove_api_file(datadir: Path) -> None:
    path = api_file(datadir)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") != os.getpid():
            return  # another worker's (PostgreSQL + external chain share a data directory)
    except (OSError, ValueError, AttributeError):
        return
    path.unlink(missing_ok=True)


def _describe(settings: Settings) -> str:
    database = "SQLite vault.db" if settings.database_url == "" else "database " + _safe_url(settings.db_url)
    chain = {"anvil": "anvil state", "hardhat": "hardhat node (not persisted)"}.get(
        settings.chain, f"{settings.chain} chain"
    )
    return f"{database}, {chain}; keys in keystore/"


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def _hint(settings: Settings) -> str:
    if (settings.keystore_dir / f"{DEMO_LOGIN}.json").exists():
        return f"Try: {command(settings.datadir, f'records --as {DEMO_LOGIN}')}   (Ctrl-C stops the vault)"
    return f"Sample data: {command(settings.datadir, 'demo')}   (Ctrl-C stops the vault)"


def _seed_demo(settings: Settings, url: str) -> None:
    from api.demo import seed

    try:
        store = Keystore(settings.keystore_dir, settings.load_master_key())
        seed(lambda: VaultClient(url), store, say)
    except Exception as exc:
        say(f"demo seeding failed: {exc}")
    say(_hint(settings))


async def _announce(server: uvicorn.Server, settings: Settings, url: str, demo: bool) -> None:
    while not server.started:  # noqa: ASYNC110 - uvicorn sets a flag, it offers no event
        await asyncio.sleep(0.05)
    write_api_file(settings.datadir, url)
    say(f"\n数字保险箱 data vault is up: {url}  (pages {url}/ , API docs {url}/docs)")
    say(f"data directory: {settings.datadir.resolve()}  ({_describe(settings)})")
    if demo:
        # A thread, not the event loop: seeding talks to this very server synchronously.
        threading.Thread(target=_seed_demo, args=(settings, url), name="demo-seed", daemon=True).start()
    else:
        say(_hint(settings))


async def open_or_explain(settings: Settings) -> OpenVault:
    await bootstrap_admin(settings)
    try:
        return await open_vault(settings)
    except SQLAlchemyError as exc:
        raise StartError(
            f"cannot open the database {_safe_url(settings.db_url)}: {getattr(exc, 'orig', None) or exc}"
        ) from None
    except OSError as exc:
        raise StartError(f"cannot start the vault: {exc}") from None


async def serve_on(settings: Settings, sock: socket.socket, demo: bool, *, announce: bool = True) -> None:
    """Opens the vault and serves on ``sock`` until stopped. ``announce``: say where, and
    write the API file (a worker leaves that to its parent, ``api.workers``)."""
    opened = await open_or_explain(settings)
    try:
        app = create_app(settings=settings, vault=opened, hosts=host_names(str(sock.getsockname()[0])))
        # log_config=None: uvicorn's loggers go through the vault's configuration (api.logging_setup).
        # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from loopback, so
        # any local caller could name itself a new client and escape the per-client bounds on
        # login challenges. Behind a reverse proxy, run the app under uvicorn with the proxy's
        # address in --forwarded-allow-ips.
        server = _Server(uvicorn.Config(app, log_config=None, timeout_graceful_shutdown=5, proxy_headers=False))
        announcer = asyncio.create_task(_announce(server, settings, base_url(sock), demo)) if announce else None
        try:
            await server.serve(sockets=[sock])
        finally:
            if announcer is not None:
                announcer.cancel()
            remove_api_file(settings.datadir)
    finally:
        # Here rather than in the app's lifespan: this also runs when a second Ctrl-C
        # skips the lifespan shutdown, so the chain node never outlives the vault.
        await opened.close()


def serve(settings: Settings, *, host: str, port: int, demo: bool) -> int:
    logging_setup.configure(settings.log_level, settings.log_format)
    with _datadir_lock(settings):
        sock = listen(host, port)
        try:
            asyncio.run(serve_on(settings, sock, demo))
        finally:
            sock.close()
    return 0
