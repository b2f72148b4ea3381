"""Asynchronous JSON-RPC: one pooled, kept-alive connection per node, requests in batches.

web3's synchronous provider costs a thread hop and web3's request formatting per request;
an online verdict needs three reads, a chunk of the outbox dozens of pre-flights, sends and
receipts. Here each travels as one JSON-RPC batch (a JSON array, answered in one response)
over ``aiohttp``'s connection pool, on the event loop. Several node URLs fail over as
``chain.connection.Failover`` does: a node that cannot be reached hands the request to the
next (never a batch of transactions); a node's own answer (an error, a revert) is final.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from itertools import count
from typing import Any

import aiohttp
from eth_utils.hexadecimal import decode_hex

from chain.connection import RPC_TIMEOUT, urls_of
from chain.errors import ChainError, NodeUnavailable
from chain.reverts import ABI, decode_revert

TRANSPORT_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)


class AsyncJsonRpc:
    """JSON-RPC requests to one node (or several, failing over), sent as batches."""

    def __init__(self, url: str, timeout: float = RPC_TIMEOUT) -> None:
        self.urls = urls_of(url)
        if not self.urls:
            raise ChainError("no node URL to talk to")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.current = 0
        self._ids = count(1)
        self.requests = 0  # HTTP requests sent (a batch is one)
        # False once a node answered a batch with one error (some gateways take no JSON
        # arrays): from then on requests go one at a time.
        self.batches = True
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def batch(self, requests: list[tuple[str, list[Any]]], *, fail_over: bool = True) -> list[tuple[Any, Any]]:
        """(result, error) of each request, in order; one HTTP request for all of them.
        ``fail_over=False`` for a batch a node may have acted on before failing to answer
        (transactions): it is not sent to the next node."""
        if not self.batches:
            return [await self._one(method, params, fail_over) for method, params in requests]
        ids = [next(self._ids) for _ in requests]
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, requests, strict=True)]
        answer = await self._post(body, requests[0][0], fail_over)
        if isinstance(answer, Mapping):
            # The array refused as a whole: none of it was carried out, so each request
            # (a transaction too) can go again on its own.
            self.batches = False
            return [await self._one(method, params, fail_over) for method, params in requests]
        by_id = {a.get("id"): a for a in answer if isinstance(a, Mapping)}
        out = []
        for i in ids:
            one = by_id.get(i)
            if one is None:
                raise NodeUnavailable("the chain node left a request of a batch unanswered")
            out.append((one.get("result"), one.get("error")))
        return out

    async def _one(self, method: str, params: list[Any], fail_over: bool) -> tuple[Any, Any]:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        answer = await self._post(body, method, fail_over)
        if not isinstance(answer, Mapping):
            raise NodeUnavailable(f"the chain node sent no JSON-RPC answer to {method}")
        return answer.get("result"), answer.get("error")

    async def close(self) -> None:
        # A session of another (finished) loop cannot be closed from this one; it goes with it.
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None

    def _session_here(self) -> aiohttp.ClientSession:
        # A session belongs to the loop that made it; a new loop (a test's) gets its own.
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=8, ttl_dns_cache=None),
                json_serialize=json.dumps,
            )
            self._loop = loop
        return self._session

    async def _post(self, body: Any, method: str, fail_over: bool) -> Any:
        session = self._session_here()
        self.requests += 1
        first = self.current
        for step in range(len(self.urls)):
            at = (first + step) % len(self.urls)
            try:
                async with session.post(self.urls[at], json=body) as response:
                    answer = await response.json(content_type=None)
            except TRANSPORT_FAILURES as exc:
                self.current = (at + 1) % len(self.urls)
                if not fail_over or step == len(self.urls) - 1:
                    raise NodeUnavailable(f"the chain node could not be reached ({method})") from exc
                continue
            self.current = at
            if not isinstance(answer, (list, Mapping)):
                raise NodeUnavailable(f"the chain node sent no JSON-RPC answer to {method}")
            return answer
        raise AssertionError("unreachable: the loop answers or raises")  # pragma: no cover


def message(error: Any) -> str:
    """What a JSON-RPC error says."""
    return str(error.get("message", error)) if isinstance(error, Mapping) else str(error)


def refusal(error: Any, abi: ABI = (), context: str = "") -> ChainError:
    """A JSON-RPC error as the chain layer says it: a decoded ``ChainRevertError`` when the
    node reports a revert (with its data, as anvil, hardhat and Besu do), else ``ChainError``."""
    data = error.get("data") if isinstance(error, Mapping) else None
    if isinstance(data, Mapping):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(decode_hex(data), abi, context)
    if "revert" in message(error).lower():
        return decode_revert(b"", abi, context)
    where = f" ({context})" if context else ""
    return ChainError(f"the chain node refused a request{where}: {message(error)}")
