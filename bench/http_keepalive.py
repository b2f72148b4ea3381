"""Sequential requests on one kept-alive connection: the vault's listening socket as it is
(TCP, so asyncio turns Nagle's algorithm off on each accepted connection) against one made
with protocol 0, as api/server.py made it before issue 12.

Serves the vault's app (in-process chain, SQLite; tests/support/harness.py) with uvicorn on a
real socket and times GET /health and GET /signin (a page), 300 requests each, one
connection, median of the runs. Prints a Markdown table with the load average.

    .venv/bin/python bench/http_keepalive.py [--requests 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn

from api.server import listen
from tests.support.harness import open_harness


def the_vaults() -> socket.socket:
    return listen("127.0.0.1", 0)


def proto_zero() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # protocol 0: the old way
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def rate(app: object, sock: socket.socket, path: str, requests: int) -> float:
    """Requests per second, one connection, each request sent when the last answer is in."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]
    sock.listen(8)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        host, port = sock.getsockname()[:2]
        reader, writer = await asyncio.open_connection(host, port)
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        started = time.perf_counter()
        for _ in range(requests):
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
        elapsed = time.perf_counter() - started
        writer.close()
        return requests / elapsed
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def main(requests: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = await open_harness(Path(tmp), chain="inprocess")
        try:
            rows: list[tuple[str, str, float]] = []
            makers: tuple[tuple[str, Callable[[], socket.socket]], ...] = (
                ("TCP (now)", the_vaults),
                ("protocol 0 (before)", proto_zero),
            )
            for path in ("/health", "/signin"):
                for name, make in makers:
                    figures = [await rate(h.app, make(), path, requests) for _ in range(runs)]
                    rows.append((path, name, statistics.median(figures)))
        finally:
            await h.close()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Sequential keep-alive requests, {requests} per run, median of {runs} runs; load average {load}\n")
    print("| path | listening socket | requests/s |")
    print("|---|---|---:|")
    for path, name, figure in rows:
        print(f"| {path} | {name} | {figure:,.0f} |")
    print(f"\n    .venv/bin/python bench/http_keepalive.py --requests {requests} --runs {runs}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.runs))
