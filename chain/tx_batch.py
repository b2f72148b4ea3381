"""A chunk of one sender's transactions in three requests: pre-flights, sends, receipts.

The outbox's pipeline (``vault.outbox.pipeline``) sends dozens of transactions at consecutive
nonces; one JSON-RPC request (and one trip through web3's formatting, in a thread) for each
pre-flight, send and receipt was most of its time. ``HttpTxBatch`` sends each kind as one
JSON-RPC batch (``chain.jsonrpc``); ``W3TxBatch`` does the same through any ``Web3`` one at a
time, in one thread hop (the in-process chain has no HTTP endpoint).

Every answer is per transaction, in order: the caller decides what a failure means (the
outbox hands anything off the plain path to its one-at-a-time protocol).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from eth_utils.hexadecimal import encode_hex
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from chain import transactions
from chain.connection import RPC_TIMEOUT, in_chain_terms
from chain.errors import ChainError
from chain.jsonrpc import AsyncJsonRpc, refusal
from chain.reverts import ABI
from chain.transactions import SignedTx, TxResult

# A receipt of a mined transaction that failed: the one-at-a-time protocol says why.
FAILED = "failed"

Gas = int | ChainError  # what a pre-flight found: the gas to give, or why the chain refuses


class TxBatch(Protocol):
    async def estimates(
        self, calls: Sequence[dict[str, Any]], abi: ABI, contexts: Sequence[str]
    ) -> list[int | ChainError]:
        """Gas (with the margin) for each call (``transactions.call_of``), or why not: a
        decoded ``ChainRevertError`` for a write the chain refuses."""
        ...

    async def broadcasts(self, txs: Sequence[SignedTx]) -> list[ChainError | None]:
        """Sends each; None where the node took it, else what it said."""
        ...

    async def receipts(self, hashes: Sequence[bytes]) -> list[TxResult | str | None]:
        """Each transaction's result: mined and succeeded, ``FAILED``, or None (not mined)."""
        ...

    async def close(self) -> None: ...


class HttpTxBatch:
    def __init__(self, url: str, timeout: float = RPC_TIMEOUT) -> None:
        self.rpc = AsyncJsonRpc(url, timeout)

    async def estimates(
        self, calls: Sequence[dict[str, Any]], abi: ABI, contexts: Sequence[str]
    ) -> list[int | ChainError]:
        if not calls:
            return []
        # Against the latest block, not the node's default (anvil: pending): a pending block
        # is rebuilt from every pooled transaction for each estimate, which made a chunk's
        # pre-flights cost 7.5 ms a grant with hundreds in the pool (2.9 ms against latest).
        # A write that needs one still in flight is refused here and goes, after it, through
        # the per-entry protocol.
        asked = [("eth_estimateGas", [{**c, "value": hex(int(c.get("value", 0)))}, "latest"]) for c in calls]
        out: list[Gas] = []
        for (result, error), context in zip(await self.rpc.batch(asked), contexts, strict=True):
            out.append(refusal(error, abi, context) if error is not None else transactions.with_margin(int(result, 16)))
        return out

    async def broadcasts(self, txs: Sequence[SignedTx]) -> list[ChainError | None]:
        if not txs:
            return []
        asked = [("eth_sendRawTransaction", [encode_hex(tx.raw)]) for tx in txs]
        # Never to a second node: the first may have taken them before failing to answer.
        answers = await self.rpc.batch(asked, fail_over=False)
        return [None if error is None else refusal(error) for _, error in answers]

    async def receipts(self, hashes: Sequence[bytes]) -> list[TxResult | str | None]:
        if not hashes:
            return []
        asked = [("eth_getTransactionReceipt", [encode_hex(h)]) for h in hashes]
        out: list[TxResult | str | None] = []
        for (result, error), tx_hash in zip(await self.rpc.batch(asked), hashes, strict=True):
            if error is not None:
                raise refusal(error)
            if not isinstance(result, dict) or result.get("blockNumber") is None:
                out.append(None)
            elif int(result["status"], 16) != 1:
                out.append(FAILED)
            else:
                out.append(TxResult(bytes(tx_hash), int(result["blockNumber"], 16), int(result["gasUsed"], 16)))
        return out

    async def close(self) -> None:
        await self.rpc.close()


class W3TxBatch:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    async def estimates(
        self, calls: Sequence[dict[str, Any]], abi: ABI, contexts: Sequence[str]
    ) -> list[int | ChainError]:
        def each() -> list[Gas]:
            out: list[Gas] = []
            for call, context in zip(calls, contexts, strict=True):
                try:
                    out.append(in_chain_terms(transactions.estimate_gas, self.w3, call, abi, context))
                except ChainError as exc:
                    out.append(exc)
            return out

        return await asyncio.to_thread(each)

    async def broadcasts(self, txs: Sequence[SignedTx]) -> list[ChainError | None]:
        def each() -> list[ChainError | None]:
            out: list[ChainError | None] = []
            for tx in txs:
                try:
                    in_chain_terms(transactions.broadcast, self.w3, tx)
                    out.append(None)
                except ChainError as exc:
                    out.append(exc)
            return out

        return await asyncio.to_thread(each)

    async def receipts(self, hashes: Sequence[bytes]) -> list[TxResult | str | None]:
        def each() -> list[TxResult | str | None]:
            out: list[TxResult | str | None] = []
            for tx_hash in hashes:
                try:
                    receipt: Any = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
                except TransactionNotFound:
                    out.append(None)
                    continue
                if receipt["status"] != 1:
                    out.append(FAILED)
                else:
                    out.append(TxResult(bytes(tx_hash), int(receipt["blockNumber"]), int(receipt["gasUsed"])))
            return out

        return await asyncio.to_thread(in_chain_terms, each)

    async def close(self) -> None:
        return None
