"""`datavault up --workers N` as an operator runs it: real processes on PostgreSQL and an anvil
node reached by URL. The workers share one port and one database; a login challenge handed out
by one worker is redeemed at another; a worker killed with -9 is started again while the
others keep answering; Ctrl-C stops them all and leaves nothing behind. On SQLite, or with a
node the vault would start itself, --workers is refused in a sentence before anything starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from chain.engines.anvil import AnvilEngine
from keys import Keystore, SigningKey
from tests.support.postgres import fresh_database
from vault.config import Settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def workers_of(pid: int) -> set[int]:
    """The worker processes the vault process started (spawned Python interpreters)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def wait_until(what: str, check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def datavault(datadir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "--datadir", str(datadir), *args]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilEngine]:
    with AnvilEngine(tmp_path / "chain", zero_gas=True) as engine:
        yield engine


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty PostgreSQL database: the vault's parent process migrates it."""
    made: asyncio.Queue[str] = asyncio.Queue()
    done = asyncio.Event()

    async def hold() -> None:
        # One event loop for the database's whole life: the context manager drops it on exit.
        async with fresh_database(migrated=False) as url:
            made.put_nowait(url)
            await done.wait()

    loop = asyncio.new_event_loop()
    holder = loop.create_task(hold())
    url = loop.run_until_complete(made.get())
    try:
        yield url
    finally:
        done.set()
        loop.run_until_complete(holder)
        loop.close()


def test_two_workers_share_the_port_survive_a_kill_and_stop_together(
    tmp_path: Path, node: AnvilEngine, database: str
) -> None:
    assert node.rpc_url is not None
    datadir = tmp_path / "vault"
    env = {**os.environ, "DATAVAULT_SIGNER_KEY": "0x" + bytes(node.dev_account().key).hex()}
    argv = datavault(datadir, "up", "--port", "0", "--workers", "2", "--chain", "rpc")
    argv += ["--rpc-url", node.rpc_url, "--database-url", database]
    vault = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        api = datadir / "api.json"
        wait_until("the vault wrote where it listens", api.exists)
        url = json.loads(api.read_text())["url"]
        wait_until("two workers", lambda: len(workers_of(vault.pid)) == 2)

        def healthy() -> bool:
            try:
                return httpx.get(url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until("the workers answer", healthy)
        # Sign in many times, each step on a new connection: challenges handed out by one
        # worker are redeemed at whichever answers (they live in the database).
        settings = Settings(datadir=datadir)
        admin = Keystore(settings.keystore_dir, settings.load_master_key()).load("admin")
        for _ in range(6):
            challenge = httpx.post(url + "/auth/challenge", json={"address": admin.address}).json()["challenge"]
            token = httpx.post(
                url + "/auth/token", json={"challenge": challenge, "signature": admin.sign_message(challenge)}
            )
            assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = {
            "code": "gongan",
            "name": "公安局",
            "roles": ["issuer"],
            "auth_address": SigningKey.generate().address,
        }
        assert httpx.post(url + "/departments", json=body, headers=headers).status_code == 201

        victim = min(workers_of(vault.pid))
        os.kill(victim, signal.SIGKILL)
        assert healthy()  # the other worker answers meanwhile
        wait_until("the killed worker replaced", lambda: len(workers_of(vault.pid) - {victim}) == 2)
        # One submitter among the workers carries the registration to the chain.
        deadline = time.monotonic() + 60
        while asyncio.run(unsent(database)):
            assert time.monotonic() < deadline, "the department was never registered on chain"
            time.sleep(0.2)

        children = workers_of(vault.pid)
        os.killpg(vault.pid, signal.SIGINT)  # Ctrl-C in its terminal: the whole group
        assert vault.wait(60) == 0
        assert not api.exists()
        wait_until("no worker left", lambda: not any(Path(f"/proc/{p}").exists() for p in children), 15)
    finally:
        if vault.poll() is None:
            vault.kill()
            vault.wait()


async def unsent(database: str) -> int:
    """Chain writes queued and not yet done (the department's funding and registration)."""
    conn = await asyncpg.connect(make_url(database).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        total, waiting = await conn.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('pending', 'signed')) FROM outbox"
        )
    finally:
        await conn.close()
    assert total > 0
    return int(waiting)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ((), "--workers needs PostgreSQL"),
        (("--database-url", "postgresql://nobody@127.0.0.1:1/none"), "--workers needs a chain reached by URL"),
        (("--workers", "0"), "--workers must be between 1 and 64"),
    ],
)
def test_workers_are_refused_where_they_cannot_run(tmp_path: Path, extra: tuple[str, ...], said: str) -> None:
    argv = datavault(tmp_path / "vault", "up", "--port", "0", "--workers", "2", *extra)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "vault" / "chain").exists()  # refused before any node was started
