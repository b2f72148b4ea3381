"""Authorised department reads over HTTP, with 1, 2 and 4 workers on PostgreSQL (issue 12).

Each run starts `datavault up --workers N` as an operator would, on its own PostgreSQL
database and an anvil node reached by URL, seeds it over HTTP (two departments, a citizen, a
licence, a grant of up to a million reads), then C clients read through the grant for T
seconds: every read checks the grant, decrypts the granted fields and appends to the access
log. Prints reads/s, p50 and p99 per worker count, with the load average and the command.

    .venv/bin/python bench/reads.py [--workers 1 2 4] [--clients 32] [--seconds 10]

PostgreSQL comes from scripts/postgres.sh on its own port (DATAVAULT_PG_PORT, default here
55439), so the bench runs beside the test suite's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.client import discover
from chain.engines.anvil import AnvilEngine
from tests.support import chaos

PG_PORT = os.environ.get("DATAVAULT_PG_PORT", "55439")


async def seed(url: str, datadir: Path) -> tuple[dict[str, str], str]:
    """A reader department's headers and a grant it may read through a million times, active."""
    issuer, citizen, reader, grant = await chaos.seed(url, datadir, chaos.Outcome())
    deadline = time.monotonic() + 120
    while (await citizen.http.get(f"/me/grants/{grant}", headers=citizen.headers)).json()["status"] != "active":
        assert time.monotonic() < deadline, "the grant was not activated on chain"
        await asyncio.sleep(0.2)
    for api in (issuer, citizen, reader):
        await api.close()
    return reader.headers, grant


async def load(url: str, headers: dict[str, str], grant: str, clients: int, seconds: float) -> list[float]:
    """Latencies (s) of every read completed within ``seconds`` by ``clients`` at once, each on
    its own kept-alive connection. The client is a few lines over asyncio streams, not httpx:
    on two cores shared with the vault, a heavy client would measure itself."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    body = b"{}"
    head = [f"POST /grants/{grant}/read HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {len(body)}"]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            warm = True  # the first read opens the code paths; not counted
            while time.monotonic() < stop:
                started = time.perf_counter()
                writer.write(request)
                status = await response(reader)
                assert status == 200, status
                if not warm:
                    latencies.append(time.perf_counter() - started)
                warm = False
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def response(reader: asyncio.StreamReader) -> int:
    """Reads one HTTP/1.1 response with a Content-Length body; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def postgres(action: str) -> str:
    env = {**os.environ, "DATAVAULT_PG_PORT": PG_PORT}
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


def run(workers: int, clients: int, seconds: float, pg: str) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp, AnvilEngine(Path(tmp) / "chain", zero_gas=True) as node:
        assert node.rpc_url is not None
        database = asyncio.run(fresh_database(pg, f"bench_reads_{workers}"))
        datadir = Path(tmp) / "vault"
        env = {
            **os.environ,
            "DATAVAULT_SIGNER_KEY": "0x" + bytes(node.dev_account().key).hex(),
            "DATAVAULT_LOG_LEVEL": "warning",
        }
        argv = [sys.executable, "-m", "api.cli", "--datadir", str(datadir), "up", "--port", "0"]
        argv += ["--workers", str(workers), "--chain", "rpc", "--rpc-url", node.rpc_url, "--database-url", database]
        vault = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            url = wait_for(datadir, vault)
            headers, grant = asyncio.run(seed(url, datadir))
            started = time.perf_counter()
            latencies = asyncio.run(load(url, headers, grant, clients, seconds))
            elapsed = time.perf_counter() - started
        finally:
            vault.send_signal(signal.SIGINT)
            vault.wait(60)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def wait_for(datadir: Path, vault: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if vault.poll() is not None:
            raise SystemExit(f"the vault exited with {vault.returncode}")
        try:
            url = discover(datadir)
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return url
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit("the vault did not come up in 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    pg = postgres("start")
    try:
        rows = [(n, *run(n, args.clients, args.seconds, pg)) for n in args.workers]
    finally:
        postgres("stop")
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.clients} clients for {args.seconds:g} s per worker count; load average {load_avg}\n")
    print("| workers | reads/s | p50 ms | p99 ms |")
    print("|---:|---:|---:|---:|")
    for n, rate, p50, p99 in rows:
        print(f"| {n} | {rate:.0f} | {p50:.1f} | {p99:.1f} |")
    shown = " ".join(str(n) for n in args.workers)
    again = f"--workers {shown} --clients {args.clients} --seconds {args.seconds:g}"
    print(f"\n    .venv/bin/python bench/reads.py {again}")


if __name__ == "__main__":
    main()
