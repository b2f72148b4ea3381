"""The chain view's conformance suite on real nodes, read over HTTP by the asynchronous
JSON-RPC reader (anvil, hardhat, and a zero-gas chain sealing a block a second reached
through a dead node first), and what only an HTTP reader does: batch, fail over, report a
node that is down."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from chain.engines import Engine
from chain.engines.anvil import AnvilEngine
from chain.engines.process import free_port
from chain.errors import NodeUnavailable
from chain.view import ChainView, JsonRpcReader, queries
from tests.integration.chain.nodes import ENGINES, started
from tests.view_conformance import *

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with started(request.param, tmp_path_factory.mktemp(request.param)) as node:
        yield node


def test_the_view_reads_over_http_in_batches(world: World) -> None:
    reader = world.view.reader
    assert isinstance(reader, JsonRpcReader)
    qs = world.queries()

    async def go() -> None:
        await world.view.read(*qs[:3])
        first = reader.requests
        await world.view.read(*qs[:3])
        assert reader.requests == first + 1  # one look at the head, nothing else

    asyncio.run(go())
    # The first read: a look at the head (one request), then the three calls (one batch).
    assert world.view.stats.looks == 2 and world.view.stats.misses == 3


def test_a_node_that_is_down_is_reported_quickly(tmp_path: Path) -> None:
    view = ChainView(JsonRpcReader(f"http://127.0.0.1:{free_port()}", timeout=2), [])
    started = time.monotonic()
    with pytest.raises(NodeUnavailable) as info:
        asyncio.run(view.latest())
    assert time.monotonic() - started < 5  # well before the default 10 s: no hang
    assert "127.0.0.1" not in str(info.value)  # the node's address is not for API clients


def test_a_stuck_node_times_out(tmp_path: Path) -> None:
    async def go() -> None:
        # Accepts the connection, never answers.
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        view = ChainView(JsonRpcReader(f"http://127.0.0.1:{port}", timeout=0.5), [])
        started = time.monotonic()
        with pytest.raises(NodeUnavailable, match="could not be reached"):
            await view.latest()
        assert time.monotonic() - started < 5  # well before the default 10 s: no hang
        server.close()

    asyncio.run(go())


def test_a_node_that_comes_back_is_read_again(tmp_path: Path) -> None:
    port = free_port()
    view = ChainView(JsonRpcReader(f"http://127.0.0.1:{port}"), [])
    with pytest.raises(NodeUnavailable):
        asyncio.run(view.latest())
    node = subprocess.Popen(AnvilEngine(tmp_path).command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert asyncio.run(view.latest()).number == 0
                break
            except NodeUnavailable:
                assert time.monotonic() < deadline, "anvil did not come up"
                time.sleep(0.2)
    finally:
        node.terminate()
        node.wait(10)


def test_a_view_query_of_a_bad_leaf_is_refused_before_the_node(world: World) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        queries.credential_status(world.registry, b"short", [])


def test_a_gateway_that_takes_no_batches_is_asked_one_request_at_a_time(world: World) -> None:
    """Some JSON-RPC gateways refuse arrays; the reader then sends each request alone."""
    assert world.engine.rpc_url is not None
    node = world.engine.rpc_url.split(",")[-1]

    async def go() -> tuple[list[Any], int]:
        async def gateway(request: web.Request) -> web.Response:
            body = await request.json()
            if isinstance(body, list):
                return web.json_response(
                    {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}
                )
            async with ClientSession() as session, session.post(node, json=body) as answer:
                return web.json_response(await answer.json())

        app = web.Application()
        app.router.add_post("/", gateway)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            reader = JsonRpcReader(f"http://127.0.0.1:{port}")
            view = ChainView(reader, [world.registry.address, world.consent.address])
            found = [(await view.read(q))[0] for q in world.queries()]
            await view.close()
            return found, reader.requests
        finally:
            await runner.cleanup()

    found, requests = asyncio.run(go())
    assert found == world.direct()
    assert requests > len(found)  # one at a time after the refused batch
