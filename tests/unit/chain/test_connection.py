"""A node that is gone, stuck or talking nonsense shows up as ``NodeUnavailable``, in bounded
time, with no address in its message; answers from a healthy node pass untouched."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chain.connection import connect, in_chain_terms
from chain.engines.process import free_port
from chain.errors import ChainError, ChainRevertError, NodeUnavailable


@contextmanager
def node(answer: Callable[[bytes], bytes], *, delay: float = 0.0, status: int = 200) -> Iterator[str]:
    """A loopback HTTP server that answers every POST with ``answer(request body)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def node_answering(body: bytes, *, delay: float = 0.0, status: int = 200) -> AbstractContextManager[str]:
    """A node that answers every request with ``body`` (after ``delay``)."""
    return node(lambda _request: body, delay=delay, status=status)


def assert_unavailable(url: str, *, timeout: float = 5.0, within: float = 4.0) -> NodeUnavailable:
    w3 = connect(url, timeout)
    started = time.monotonic()
    with pytest.raises(NodeUnavailable) as caught:
        w3.eth.block_number  # noqa: B018
    assert time.monotonic() - started < within
    port = url.rsplit(":", 1)[1]
    assert "127.0.0.1" not in str(caught.value) and port not in str(caught.value)
    return caught.value


def test_a_refused_connection_is_node_unavailable_without_the_address() -> None:
    port = free_port()  # nothing listens there
    error = assert_unavailable(f"http://127.0.0.1:{port}")
    assert "could not be reached" in str(error) and isinstance(error, ChainError)


def test_a_stuck_node_times_out() -> None:
    with node_answering(b'{"jsonrpc":"2.0","id":0,"result":"0x1"}', delay=3.0) as url:
        error = assert_unavailable(url, timeout=0.5, within=2.5)
    assert "in time" in str(error)


@pytest.mark.parametrize(
    "body,status",
    [
        (b"<html>502 Bad Gateway</html>", 502),
        (b"<html>not json</html>", 200),
        (b'{"jsonrpc":"2.0","id":0}', 200),
        (b'["no", "object"]', 200),
    ],
)
def test_an_answer_that_is_not_json_rpc_is_node_unavailable(body: bytes, status: int) -> None:
    with node_answering(body, status=status) as url:
        assert_unavailable(url)


def test_a_healthy_answer_passes() -> None:
    with node_answering(b'{"jsonrpc":"2.0","id":0,"result":"0x2a"}') as url:
        assert connect(url).eth.block_number == 42


def test_a_connection_dropped_mid_answer_is_node_unavailable() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        assert_unavailable(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()


def test_web3_errors_let_through_become_chain_errors() -> None:
    from requests import ConnectionError as RequestsConnectionError
    from web3.exceptions import ContractLogicError, Web3RPCError

    def raising(exc: Exception) -> None:
        raise exc

    with pytest.raises(NodeUnavailable):
        in_chain_terms(raising, RequestsConnectionError("HTTPConnectionPool(host='10.0.0.7', port=8545)"))
    with pytest.raises(ChainError, match="refused the request: nonce too low") as refused:
        in_chain_terms(raising, Web3RPCError("nonce too low"))
    assert not isinstance(refused.value, NodeUnavailable)
    with pytest.raises(ChainRevertError):
        in_chain_terms(raising, ContractLogicError("execution reverted", data="0x"))
    assert in_chain_terms(lambda x: x + 1, 1) == 2


def recording_node(asked: list[str]) -> AbstractContextManager[str]:
    """A JSON-RPC node that notes each method asked and answers as a chain whose id is 0x7a69
    and whose calls return nothing (a transaction's hash: 0x11...)."""

    def answer(raw: bytes) -> bytes:
        request = json.loads(raw)
        asked.append(request["method"])
        result = {"eth_chainId": "0x7a69", "eth_blockNumber": "0x10"}.get(request["method"], "0x")
        if request["method"] == "eth_sendRawTransaction":
            result = "0x" + "11" * 32
        return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()

    return node(answer)


def test_the_chain_id_is_asked_once_per_node_not_before_every_call() -> None:
    """web3 validates each call and transaction against the node's chain id; asked every time,
    that was two of every three requests of a read (issue 12)."""
    asked: list[str] = []
    with recording_node(asked) as url:
        w3 = connect(url)
        to = "0x" + "11" * 20
        assert w3.eth.call({"to": to, "data": "0x"}) == b""
        first = asked.count("eth_chainId")
        for _ in range(10):
            assert w3.eth.call({"to": to, "data": "0x"}) == b""
        assert w3.eth.chain_id == 0x7A69
    # Asked while the first call is validated, never again: not three requests per read.
    assert asked.count("eth_call") == 11 and asked.count("eth_chainId") == first <= 2, asked


def test_reads_fail_over_to_the_next_node_of_the_chain() -> None:
    """DATAVAULT_RPC_URL may name several nodes of a consortium chain: a read that cannot reach
    one node is asked of the next, and the next requests stay with the node that answered."""
    asked: list[str] = []
    dead = f"http://127.0.0.1:{free_port()}"
    with recording_node(asked) as live:
        w3 = connect(f"{dead}, {live}", timeout=2.0)
        assert w3.eth.block_number == 0x10
        assert w3.eth.block_number == 0x10
        assert asked.count("eth_blockNumber") == 2
    with pytest.raises(NodeUnavailable):  # every node down: the guard's answer, no address
        connect(f"{dead},{dead}", timeout=2.0).eth.block_number  # noqa: B018


def test_a_transaction_is_sent_to_one_node_only_and_the_next_send_goes_to_the_next() -> None:
    """A node that took a transaction and then failed may have it: the send is not repeated
    at once on another node (the outbox resends it on its next round, to the next node)."""
    asked: list[str] = []
    dead = f"http://127.0.0.1:{free_port()}"
    with recording_node(asked) as live:
        w3 = connect(f"{dead},{live}", timeout=2.0)
        with pytest.raises(NodeUnavailable):
            w3.eth.send_raw_transaction(b"\x01")
        assert "eth_sendRawTransaction" not in asked
        assert w3.eth.send_raw_transaction(b"\x01") == bytes.fromhex("11" * 32)
        assert asked.count("eth_sendRawTransaction") == 1
