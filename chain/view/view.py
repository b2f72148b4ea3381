"""A local view of what verifiers ask most, kept equal to the chain's latest block.

Every read first brings the view to a head the node reported *after* the read began: so a
verdict equals what the chain says now, never what it said a while ago. Concurrent reads share
that look at the head: while one is in flight, everyone who arrives waits for the next one,
which starts when it ends (at most one in flight, one waiting), so under load one request to
the node serves many verdicts. A look that finds no new block costs one request; a new block
costs a second, its logs, which forget the answers they touch (``chain.view.queries``). What the
view does not know is asked at the view's block, all of a verdict's misses in one request.

A chain that went back (a node restored from older state: the view's block is gone or has
another hash) or jumped further than ``span`` blocks makes the view forget everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from chain.view.answers import Answers
from chain.view.queries import Query
from chain.view.reader import Block, Reader

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

# More blocks than this between two looks: forgetting is cheaper than reading their logs
# (and nodes limit the range one eth_getLogs may span).
SPAN = 2_000


@dataclass
class ViewStats:
    looks: int = 0  # requests for the head
    blocks: int = 0  # new blocks whose logs were read
    logs: int = 0
    forgotten: int = 0  # answers a log touched
    resets: int = 0  # times everything was forgotten
    hits: int = 0
    misses: int = 0


class ChainView:
    def __init__(self, reader: Reader, addresses: Sequence[str], *, limit: int = 100_000, span: int = SPAN) -> None:
        self.reader = reader
        self.addresses = [a.lower() for a in addresses]
        self.answers = Answers(limit)
        self.span = span
        self.block: Block | None = None
        self.stats = ViewStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[Block] | None = None
        self._runner: asyncio.Task[None] | None = None

    async def latest(self) -> Block:
        """The view, brought to a head the node reported after this call began."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # futures belong to one loop; the answers do not
            self._loop, self._next, self._runner = loop, None, None
        if self._next is None:
            self._next = loop.create_future()
            self._next.add_done_callback(_retrieved)
            if self._runner is None or self._runner.done():
                self._runner = loop.create_task(self._run())
        return await asyncio.shield(self._next)

    @overload
    async def read(self, a: Query[A], /) -> tuple[A]: ...
    @overload
    async def read(self, a: Query[A], b: Query[B], /) -> tuple[A, B]: ...
    @overload
    async def read(self, a: Query[A], b: Query[B], c: Query[C], /) -> tuple[A, B, C]: ...
    async def read(self, *queries: Query[Any]) -> tuple[Any, ...]:
        """The answers to ``queries`` as of the chain's latest block, all at one block."""
        await self.latest()
        return await self.known(*queries)

    async def known(self, *queries: Query[Any]) -> tuple[Any, ...]:
        """The answers at the view's current block, without looking at the head again."""
        block = self.block
        assert block is not None, "latest() first"
        values: list[Any] = []
        missing: list[int] = []
        for i, q in enumerate(queries):
            found, value = self.answers.get(q.key)
            values.append(value)
            if not found:
                missing.append(i)
        self.stats.hits += len(queries) - len(missing)
        self.stats.misses += len(missing)
        if missing:
            data = await self.reader.calls([queries[i].call for i in missing], block.number)
            # Kept only if no look moved the view meanwhile: a log in between could have
            # touched them after they were read.
            keep = self.block == block
            for i, raw in zip(missing, data, strict=True):
                q = queries[i]
                values[i] = q.answer(raw)
                if keep:
                    self.answers.put(q.key, values[i], q.topics)
        return tuple(values)

    async def close(self) -> None:
        await self.reader.close()

    async def _run(self) -> None:
        while self._next is not None:
            waiting, self._next = self._next, None
            try:
                await self._look()
            except asyncio.CancelledError:
                waiting.cancel()
                raise
            except Exception as exc:
                waiting.set_exception(exc)
            else:
                assert self.block is not None
                waiting.set_result(self.block)

    async def _look(self) -> None:
        known = self.block
        self.stats.looks += 1
        if known is None:
            (head,) = await self.reader.blocks([None])
            assert head is not None
            self.block = head
            return
        head, then = await self.reader.blocks([None, known.number])
        assert head is not None
        if then is None or then.hash != known.hash or head.number < known.number:
            return self._forget(head)
        if head.number == known.number:
            return
        if head.number - known.number > self.span:
            return self._forget(head)
        logs = await self.reader.logs(self.addresses, known.number + 1, head.number)
        if self.block != known:  # pragma: no cover - one look at a time (``_run``)
            raise AssertionError("the view moved during a look")
        for log in logs:
            if log.address not in self.addresses:
                continue
            if not log.topics:  # no keys to go by: it could have changed anything
                self.answers.clear()
            self.stats.forgotten += self.answers.touched(log.topics)
        self.stats.blocks += head.number - known.number
        self.stats.logs += len(logs)
        self.block = head

    def _forget(self, head: Block) -> None:
        self.answers.clear()
        self.stats.resets += 1
        self.block = head


def _retrieved(future: asyncio.Future[Block]) -> None:
    # Everyone who waited may have given up; an exception nobody awaited is not a bug here.
    if not future.cancelled():
        future.exception()
