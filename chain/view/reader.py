"""What the chain view asks of a node, in three requests, and two readers that ask it.

A view needs a block's number and hash (to know where the chain is and whether it went back),
the logs of a range of blocks (to know which answers changed), and several ``eth_call``s
answered at one block (what it does not know yet). ``JsonRpcReader`` sends each as one HTTP
request, a JSON-RPC batch; ``W3Reader`` asks any ``Web3`` (the in-process chain has no HTTP
endpoint) one call at a time in a thread, as every other chain read does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils.hexadecimal import decode_hex, encode_hex
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from chain.connection import RPC_TIMEOUT, in_chain_terms
from chain.errors import ChainError
from chain.jsonrpc import AsyncJsonRpc, message, refusal
from chain.reverts import as_revert


@dataclass(frozen=True)
class Block:
    number: int
    hash: bytes


@dataclass(frozen=True)
class Log:
    block: int
    address: str  # lower-case hex
    topics: tuple[bytes, ...]


@dataclass(frozen=True)
class Call:
    to: str  # checksum or lower-case hex address
    data: bytes


class Reader(Protocol):
    async def blocks(self, numbers: Sequence[int | None]) -> list[Block | None]:
        """The blocks ``numbers`` (None: the latest), one request; None for a missing one."""
        ...

    async def logs(self, addresses: Sequence[str], first: int, last: int) -> list[Log]:
        """Every log the contracts at ``addresses`` wrote in blocks ``first`` to ``last``."""
        ...

    async def calls(self, calls: Sequence[Call], block: int) -> list[bytes]:
        """What each call returns at ``block``, one request; a revert raises ``ChainRevertError``."""
        ...

    async def close(self) -> None: ...


class W3Reader:
    """A ``Reader`` over a synchronous ``Web3``: the in-process chain, or any node web3 reaches."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    async def blocks(self, numbers: Sequence[int | None]) -> list[Block | None]:
        return await asyncio.to_thread(in_chain_terms, self._blocks, list(numbers))

    async def logs(self, addresses: Sequence[str], first: int, last: int) -> list[Log]:
        return await asyncio.to_thread(in_chain_terms, self._logs, list(addresses), first, last)

    async def calls(self, calls: Sequence[Call], block: int) -> list[bytes]:
        return await asyncio.to_thread(in_chain_terms, self._calls, list(calls), block)

    async def close(self) -> None:
        return None

    def _blocks(self, numbers: list[int | None]) -> list[Block | None]:
        found: list[Block | None] = []
        for number in numbers:
            try:
                b: Any = self.w3.eth.get_block("latest" if number is None else number)
            except Web3Exception:
                if number is None:
                    raise
                found.append(None)
                continue
            found.append(Block(int(b["number"]), bytes(b["hash"])))
        return found

    def _logs(self, addresses: list[str], first: int, last: int) -> list[Log]:
        raw = self.w3.eth.get_logs(
            {"address": [Web3.to_checksum_address(a) for a in addresses], "fromBlock": first, "toBlock": last}
        )
        return [
            Log(int(e["blockNumber"]), str(e["address"]).lower(), tuple(bytes(t) for t in e["topics"])) for e in raw
        ]

    def _calls(self, calls: list[Call], block: int) -> list[bytes]:
        out = []
        for call in calls:
            try:
                out.append(
                    bytes(
                        self.w3.eth.call({"to": Web3.to_checksum_address(call.to), "data": HexBytes(call.data)}, block)
                    )
                )
            except Web3Exception as exc:
                revert = as_revert(exc)
                if revert is not None:
                    raise revert from exc
                raise
        return out


class JsonRpcReader:
    """A ``Reader`` over HTTP: each of its requests one JSON-RPC batch (``chain.jsonrpc``)."""

    def __init__(self, url: str, timeout: float = RPC_TIMEOUT) -> None:
        self.rpc = AsyncJsonRpc(url, timeout)

    @property
    def requests(self) -> int:
        return self.rpc.requests

    async def blocks(self, numbers: Sequence[int | None]) -> list[Block | None]:
        asked = [("eth_getBlockByNumber", ["latest" if n is None else hex(n), False]) for n in numbers]
        out: list[Block | None] = []
        for number, (result, error) in zip(numbers, await self.rpc.batch(asked), strict=True):
            if error is not None or not isinstance(result, dict):
                if number is None:
                    raise ChainError(f"the chain node sent no latest block: {message(error or result)}")
                out.append(None)
                continue
            out.append(Block(int(result["number"], 16), decode_hex(result["hash"])))
        return out

    async def logs(self, addresses: Sequence[str], first: int, last: int) -> list[Log]:
        query = {"address": [a.lower() for a in addresses], "fromBlock": hex(first), "toBlock": hex(last)}
        ((result, error),) = await self.rpc.batch([("eth_getLogs", [query])])
        if error is not None or not isinstance(result, list):
            raise ChainError(f"the chain node refused eth_getLogs: {message(error)}")
        return [
            Log(int(e["blockNumber"], 16), str(e["address"]).lower(), tuple(decode_hex(t) for t in e["topics"]))
            for e in result
        ]

    async def calls(self, calls: Sequence[Call], block: int) -> list[bytes]:
        at = hex(block)
        asked = [("eth_call", [{"to": c.to, "data": encode_hex(c.data)}, at]) for c in calls]
        out = []
        for result, error in await self.rpc.batch(asked):
            if error is not None:
                raise refusal(error)
            out.append(decode_hex(result))
        return out

    async def close(self) -> None:
        await self.rpc.close()
