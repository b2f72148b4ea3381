"""What the HTTP load benchmarks share: their own PostgreSQL, `datavault up --workers N` on an
anvil node reached by URL, and a load generator light enough not to measure itself.

The client is a few lines over asyncio streams, each client on its own kept-alive
connection, not httpx: on two cores shared with the vault, a heavy client would measure
itself. PostgreSQL comes from scripts/postgres.sh on its own port (DATAVAULT_PG_PORT), so a
bench runs beside the test suite's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.client import discover
from chain.engines.anvil import AnvilEngine


@dataclass(frozen=True)
class Figures:
    rate: float  # answers per second
    p50: float  # ms
    p99: float  # ms

    @staticmethod
    def of(latencies: list[float], elapsed: float) -> Figures:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return Figures(len(ordered) / elapsed, statistics.median(ordered) * 1000, p99 * 1000)


def request(url: str, path: str, headers: dict[str, str], body: bytes, method: str = "POST") -> bytes:
    """One request (a POST unless ``method`` says otherwise) as bytes, ready to be written to a
    kept-alive connection."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def load(
    url: str, next_request: Callable[[], bytes | None], clients: int, seconds: float, ok: Callable[[bytes], bool]
) -> tuple[list[float], float]:
    """Latencies (s) of every answer within ``seconds`` (or until ``next_request`` has no more)
    from ``clients`` at once, and the seconds it took. Each answer must be 200 and ``ok``."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            warm = True  # the first answer opens the code paths; not counted
            while time.monotonic() < stop and (wire := next_request()) is not None:
                started = time.perf_counter()
                writer.write(wire)
                status, body = await response(reader)
                assert status == 200 and ok(body), (status, body[:300])
                if not warm:
                    latencies.append(time.perf_counter() - started)
                warm = False
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Reads one HTTP/1.1 response with a Content-Length body: its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


class Connection:
    """One kept-alive connection for a client whose next request depends on the last answer (a
    flow's steps, each party on its own connection): one request at a time, read whole. The
    server closes a connection idle for 5 s (uvicorn's keep-alive), so one idle for ``IDLE`` s
    is opened again before the next request rather than found closed after it."""

    IDLE = 4.0

    def __init__(self, url: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.url, self.reader, self.writer = url, reader, writer
        self.used = time.monotonic()

    @staticmethod
    async def open(url: str) -> Connection:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return Connection(url, reader, writer)

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b"", timeout: float = 30.0
    ) -> tuple[int, bytes]:
        """The status and body of one request; a request unanswered after ``timeout`` s raises."""
        if time.monotonic() - self.used > self.IDLE:
            self.writer.close()
            again = await Connection.open(self.url)
            self.reader, self.writer = again.reader, again.writer
        self.writer.write(request(self.url, path, headers, body, method))
        answer = await asyncio.wait_for(response(self.reader), timeout)
        self.used = time.monotonic()
        return answer

    def close(self) -> None:
        self.writer.close()


def postgres(action: str, port: str) -> str:
    env = {**os.environ, "DATAVAULT_PG_PORT": port}
    out = subprocess.run([str(ROOT / "scripts/postgres.sh"), action], env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


async def fresh_database(base: str, name: str) -> str:
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.rsplit("/", 1)[0] + "/" + name


@contextmanager
def vault(workers: int, pg: str, name: str) -> Iterator[tuple[str, Path]]:
    """`datavault up --workers N` on a fresh database ``name`` and its own anvil (zero gas):
    its URL and data directory. Stopped with Ctrl-C (SIGINT) on the way out."""
    with tempfile.TemporaryDirectory() as tmp, AnvilEngine(Path(tmp) / "chain", zero_gas=True) as node:
        assert node.rpc_url is not None
        database = asyncio.run(fresh_database(pg, name))
        datadir = Path(tmp) / "vault"
        env = {
            **os.environ,
            "DATAVAULT_SIGNER_KEY": "0x" + bytes(node.dev_account().key).hex(),
            "DATAVAULT_LOG_LEVEL": "warning",
        }
        argv = [sys.executable, "-m", "api.cli", "--datadir", str(datadir), "up", "--port", "0"]
        argv += ["--workers", str(workers), "--chain", "rpc", "--rpc-url", node.rpc_url, "--database-url", database]
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            yield wait_for(datadir, process), datadir
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(60)


def wait_for(datadir: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the vault exited with {process.returncode}")
        try:
            url = discover(datadir)
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return url
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit("the vault did not come up in 120 s")


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
