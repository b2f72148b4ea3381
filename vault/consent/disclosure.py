"""What a grant lets a department see of a record: exactly the granted field paths.

A field path names a key of the record's ``fields`` object, or a key inside a nested object
with dots (``住址.城市``). A path selects that whole subtree. Paths that the record lacks are
simply absent from the result: a grant says what may be disclosed, not what exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from vault.errors import VaultValueError

MAX_PATHS = 64
MAX_PATH_LENGTH = 200
# A path segment: any text without dots or control characters (Chinese field names are the norm).
_SEGMENT = re.compile(r"[^.\x00-\x1f]+")


def check_paths(paths: Sequence[str]) -> tuple[str, ...]:
    """Validates and de-duplicates field paths, keeping their order."""
    if not isinstance(paths, (list, tuple)) or not paths:
        raise VaultValueError("a grant needs at least one field path", field="fields")
    if len(paths) > MAX_PATHS:
        raise VaultValueError(f"a grant may name at most {MAX_PATHS} field paths", field="fields")
    seen: dict[str, None] = {}
    for path in paths:
        if not isinstance(path, str) or not path or len(path) > MAX_PATH_LENGTH:
            raise VaultValueError(f"field paths are 1-{MAX_PATH_LENGTH} characters", field="fields")
        if not all(_SEGMENT.fullmatch(segment) for segment in path.split(".")):
            raise VaultValueError(f"malformed field path {path!r}", field="fields")
        seen[path] = None
    return tuple(seen)


def select(fields: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """The part of ``fields`` covered by ``paths``, with the same nesting."""
    out: dict[str, Any] = {}
    for path in paths:
        *parents, last = path.split(".")
        source: Any = fields
        for key in parents:
            source = source.get(key) if isinstance(source, Mapping) else None
        if not isinstance(source, Mapping) or last not in source:
            continue
        target = out
        for key in parents:
            nested = target.setdefault(key, {})
            if not isinstance(nested, dict):  # a shorter path already selected the whole subtree
                break
            target = nested
        else:
            if last not in target or (isinstance(target[last], dict) and isinstance(source[last], Mapping)):
                target[last] = _copy(source[last])
    return out


def paths_in(fields: Mapping[str, Any]) -> list[str]:
    """Every path a grant could name in ``fields``: each key, and each key of a nested object
    joined by dots. Keys that no path can name (with a dot or control character) are left out."""
    out: list[str] = []
    stack: list[tuple[str, Mapping[str, Any]]] = [("", fields)]
    while stack:  # iterative: a record's nesting depth is the issuer's, not bounded here
        prefix, mapping = stack.pop()
        for key, value in mapping.items():
            if not isinstance(key, str) or not _SEGMENT.fullmatch(key):
                continue
            path = prefix + key
            out.append(path)
            if isinstance(value, Mapping):
                stack.append((path + ".", value))
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
