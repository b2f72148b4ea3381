"""Answers the view knows, each valid until a log touches one of its topics.

Bounded: past ``limit`` answers the oldest goes (an answer not kept is only asked again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any


class Answers:
    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._values: OrderedDict[tuple[Any, ...], tuple[Any, frozenset[bytes]]] = OrderedDict()
        self._by_topic: dict[bytes, set[tuple[Any, ...]]] = {}

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        found = self._values.get(key)
        if found is None:
            return False, None
        return True, found[0]

    def put(self, key: tuple[Any, ...], value: Any, topics: frozenset[bytes]) -> None:
        self._drop(key)
        self._values[key] = (value, topics)
        for topic in topics:
            self._by_topic.setdefault(topic, set()).add(key)
        while len(self._values) > self.limit:
            self._drop(next(iter(self._values)))

    def touched(self, topics: Iterable[bytes]) -> int:
        """Forgets every answer depending on one of ``topics``; how many it forgot."""
        gone = 0
        for topic in topics:
            for key in self._by_topic.pop(topic, ()):
                gone += self._drop(key)
        return gone

    def clear(self) -> None:
        self._values.clear()
        self._by_topic.clear()

    def _drop(self, key: tuple[Any, ...]) -> int:
        found = self._values.pop(key, None)
        if found is None:
            return 0
        for topic in found[1]:
            keys = self._by_topic.get(topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_topic[topic]
        return 1
