"""A local, block-indexed view of issuers, anchors, revocations and holders' keys, kept equal
to the chain's latest block from its logs (``ChainView``), read through an asynchronous,
batching JSON-RPC reader where the node has a URL (``JsonRpcReader``)."""

from __future__ import annotations

from collections.abc import Sequence

from chain.engines.base import Engine
from chain.view import queries
from chain.view.queries import Query
from chain.view.reader import Block, Call, JsonRpcReader, Log, Reader, W3Reader
from chain.view.view import ChainView, ViewStats

__all__ = [
    "Block",
    "Call",
    "ChainView",
    "JsonRpcReader",
    "Log",
    "Query",
    "Reader",
    "ViewStats",
    "W3Reader",
    "queries",
    "view_of",
]


def view_of(engine: Engine, addresses: Sequence[str]) -> ChainView:
    """A view of the contracts at ``addresses`` on ``engine``'s chain: over HTTP where the node
    has a URL, else (the in-process chain) through its ``Web3``."""
    url = engine.rpc_url
    reader: Reader = JsonRpcReader(url) if url else W3Reader(engine.w3)
    return ChainView(reader, addresses)
