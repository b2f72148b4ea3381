"""Pages of a long list: a subject's records, grants, corrections, a department's notices.

One style for every list: a page holds at most ``limit`` items (``DEFAULT_LIMIT`` unless the
caller asks, never more than ``MAX_LIMIT``, as the access log's pages), the ``total`` the whole
list holds, and ``next``, an opaque cursor to pass back as ``after`` for the page that follows
(None: nothing follows). The cursor is the sort key of the page's last row (a keyset, not an
offset), so a page costs one index range scan of ``limit + 1`` rows and one ``COUNT`` however
long the list is, and rows added meanwhile neither repeat nor shift what follows.

A list runs oldest first (the API's order) or, with ``newest``, newest first (the pages'
order: what happened last on top). A cursor names its list and its order (``kind``): one
list's cursor handed to another, or to the same list the other way round, is refused, as is
anything this module did not make, with a reason (``VaultValueError``: a 422 at the API).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from vault.errors import VaultValueError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
MAX_CURSOR = 512  # characters: a cursor is a few keys, never more

T = TypeVar("T")
Key = tuple[int | str, ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # in the whole list, not only this page
    next: str | None  # pass as ``after`` for the next page; None: this is the last


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise VaultValueError(f"limit must be 1-{MAX_LIMIT}", field="limit")


def cursor(kind: str, key: Key) -> str:
    raw = json.dumps([kind, *key], ensure_ascii=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_of(kind: str, after: str, shape: Sequence[type]) -> Key:
    """The key ``after`` carries, checked against the list's ``kind`` and key ``shape``."""
    refused = VaultValueError("after is not a cursor of this list: pass the `next` of its previous page", field="after")
    if not after or len(after) > MAX_CURSOR:
        raise refused
    try:
        decoded = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
    except (binascii.Error, ValueError):
        raise refused from None
    if not isinstance(decoded, list) or len(decoded) != len(shape) + 1 or decoded[0] != kind:
        raise refused
    key = decoded[1:]
    # bool is an int to Python, never in a key of ours.
    if any(type(v) is not t for v, t in zip(key, shape, strict=True)):
        raise refused
    return tuple(key)


async def keyset(
    session: AsyncSession,
    model: type[Any],
    where: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    kind: str,
    *,
    after: str | None,
    limit: int,
    newest: bool = False,
) -> Page[Any]:
    """One page of ``model``'s rows that match ``where``, in ascending ``order`` (columns that
    together are unique), or descending with ``newest``, after the cursor ``after``. The
    indexes that walk a list forwards walk it backwards as well."""
    check_limit(limit)
    if newest:
        kind = f"{kind}-newest"
    clauses = list(where)
    if after is not None:
        shape = [c.type.python_type for c in order]
        key = tuple_(*key_of(kind, after, shape))
        clauses.append(tuple_(*order) < key if newest else tuple_(*order) > key)
    ordered = [c.desc() for c in order] if newest else list(order)
    rows = list(await session.scalars(select(model).where(*clauses).order_by(*ordered).limit(limit + 1)))
    total = int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(rows, total, cursor(kind, tuple(getattr(last, c.key) for c in order)) if last is not None else None)
