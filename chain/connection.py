"""The one way this package talks to a node over HTTP: a ``Web3`` whose every request is
bounded in time and whose transport failures surface as ``NodeUnavailable``.

web3 lets a dead node show through as whatever its transport raised (``requests``'
``ConnectionError``, a ``ReadTimeout``, a ``JSONDecodeError`` for a proxy's HTML page), each
naming the node's address. Everything above the chain layer should see one ``ChainError``
subclass instead, so the guard sits in web3's middleware onion, where every call passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception
from web3.middleware.base import Web3Middleware
from web3.providers import JSONBaseProvider
from web3.types import MakeRequestFn, RPCEndpoint, RPCResponse

from chain.errors import ChainError, NodeUnavailable
from chain.reverts import as_revert

T = TypeVar("T")

# Seconds one JSON-RPC request may take. Calls and sends return quickly on every engine (a
# receipt is polled, not waited for), so a request slower than this means a stuck node.
RPC_TIMEOUT = 10.0


class NodeGuard(Web3Middleware):
    """Turns transport failures and non-JSON-RPC answers into ``NodeUnavailable``."""

    def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
        def guarded(method: RPCEndpoint, params: Any) -> RPCResponse:
            try:
                response = make_request(method, params)
            except requests.Timeout as exc:
                raise NodeUnavailable(f"the chain node did not answer {method} in time") from exc
            # requests' errors are OSErrors; a body that is not JSON fails to decode.
            except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise NodeUnavailable(f"the chain node could not be reached ({method})") from exc
            if not isinstance(response, Mapping) or not ("result" in response or "error" in response):
                raise NodeUnavailable(f"the chain node sent no JSON-RPC answer to {method}")
            return response

        return guarded


def guard(w3: Web3) -> Web3:
    """``w3`` with the guard innermost: it sees the provider's answer before any other
    middleware tries to format it (and fails on nonsense in its own way)."""
    w3.middleware_onion.inject(NodeGuard, name="node_guard", layer=0)
    return w3


# Asked once per node: web3's validation asks the chain id before every call and every
# transaction (two of every three requests of a read), and a node's chain id does not change.
CACHED = {RPCEndpoint("eth_chainId")}

# A node that fails like this is down (or unreachable) for this request: the next node may
# answer. Anything else (a JSON-RPC error, a revert) is the chain's own answer.
TRANSPORT_FAILURES = (requests.RequestException, OSError, json.JSONDecodeError, UnicodeDecodeError)
# Sent to one node only: a node that took the transaction and then failed to answer may have
# it already; the outbox, which recorded it before sending, resends it on its next round
# (now to the next node) and recognises one already mined.
NOT_RETRIED = {RPCEndpoint("eth_sendRawTransaction"), RPCEndpoint("eth_sendTransaction")}


def _node(url: str, timeout: float) -> HTTPProvider:
    return HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=None,
        cache_allowed_requests=True,
        cacheable_requests=CACHED,
    )


class Failover(JSONBaseProvider):
    """Several nodes of one chain (a consortium's validators): requests go to the node that
    last answered; one that cannot be reached hands the request to the next, in turn, until
    one answers or all have failed (then the last failure, which ``NodeGuard`` reports)."""

    def __init__(self, urls: list[str], timeout: float) -> None:
        super().__init__()
        self.nodes = [_node(url, timeout) for url in urls]
        self.current = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        first = self.current
        for step in range(len(self.nodes)):
            at = (first + step) % len(self.nodes)
            try:
                response = self.nodes[at].make_request(method, params)
            except TRANSPORT_FAILURES:
                self.current = (at + 1) % len(self.nodes)
                if method in NOT_RETRIED or step == len(self.nodes) - 1:
                    raise
                continue
            self.current = at
            return response
        raise AssertionError("unreachable: the loop answers or raises")  # pragma: no cover


def urls_of(setting: str) -> list[str]:
    """The node URLs of ``DATAVAULT_RPC_URL``: one, or several separated by commas."""
    return [url.strip() for url in setting.split(",") if url.strip()]


def connect(url: str, timeout: float = RPC_TIMEOUT) -> Web3:
    """A guarded ``Web3`` on the node at ``url`` (or on the nodes, comma-separated, failing
    over between them). No transport retries on one node: callers that retry (the outbox) do
    so with their own back-off, and a request never outlives ``timeout`` per node."""
    urls = urls_of(url)
    provider = _node(urls[0], timeout) if len(urls) == 1 else Failover(urls, timeout)
    return guard(Web3(provider))


def in_chain_terms(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with any web3 or transport error it lets through raised as a ``ChainError``:
    the one net under everything callers above the chain layer run against a node."""
    try:
        return fn(*args)
    except ChainError:
        raise
    except requests.RequestException as exc:
        raise NodeUnavailable("the chain node could not be reached") from exc
    except Web3Exception as exc:
        revert = as_revert(exc)
        if revert is not None:
            raise revert from exc
        raise ChainError(f"the chain node refused the request: {exc}") from exc
