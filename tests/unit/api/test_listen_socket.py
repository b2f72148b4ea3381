"""The vault's listening socket (issue 12): connections it accepts send at once.

asyncio turns Nagle's algorithm off (TCP_NODELAY) on an accepted connection only when the
listening socket names TCP as its protocol. Created with protocol 0, every answer after the
first on a kept-alive connection waited for the client's delayed ACK: /health went from
720/s to 22/s."""

from __future__ import annotations

import asyncio
import socket
import time

import uvicorn
from starlette.types import Receive, Scope, Send

from api.server import listen


async def test_a_connection_the_vault_accepts_has_nagle_off() -> None:
    sock = listen("127.0.0.1", 0)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        assert await asyncio.wait_for(seen, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


async def app(scope: Scope, _receive: Receive, send: Send) -> None:
    """The smallest ASGI answer: a few bytes, written in two parts as any answer is."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_ten_requests_on_one_kept_alive_connection_are_not_held_back() -> None:
    """Behind the flag, what a client sees: the median of ten sequential requests on one
    connection stays far below the 40 ms a delayed ACK costs (it measured ~44 ms before)."""
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    sock.listen(8)  # the client's connection waits in the backlog until the server accepts it
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        host, port = sock.getsockname()[:2]
        reader, writer = await asyncio.open_connection(host, port)
        times: list[float] = []
        for _ in range(10):
            started = time.perf_counter()
            writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)
            times.append(time.perf_counter() - started)
        writer.close()
        assert sorted(times)[5] < 0.03, [round(t * 1000, 1) for t in times]
    finally:
        server.should_exit = True
        await serving
        sock.close()
