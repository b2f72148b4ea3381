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
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.middleware.base import Web3Middleware
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


def connect(url: str, timeout: float = RPC_TIMEOUT) -> Web3:
    """A guarded ``Web3`` on the node at ``url``. No transport retries: callers that retry
    (the outbox) do so with their own back-off, and a request never outlives ``timeout``."""
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=None,
        cache_allowed_requests=True,
        cacheable_requests=CACHED,
    )
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
