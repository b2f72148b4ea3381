"""Reading a command's arguments, all before any network round trip: times, JSON, lists of
names, record types, ids and whole numbers. Shared by the command groups, like `common`, which
it builds on (errors, reading files)."""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from api.cli.common import DAY, CliError, read_text
from vault.record_types import RECORD_TYPES

UNTIL = "end: YYYY-MM-DD (valid through that day, UTC), an ISO date-time, or Unix seconds"
FROM = "start (default now): YYYY-MM-DD (from the start of that day, UTC), an ISO date-time, or Unix seconds"
_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_SEPARATORS = re.compile(r"[,，、]")  # people type Chinese commas too


def parse_time(text: str, *, start: bool = False) -> int:
    """Unix seconds, an ISO date-time, or a date: valid *through* that day (UTC).

    A certificate "valid until 2027-12-31" is still valid on the 31st; the chain's bound is
    exclusive, so a bare date becomes the midnight that ends it. With ``start`` (a "from"
    bound) a bare date is the midnight that begins it.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return (day.toordinal() - date(1970, 1, 1).toordinal() + (0 if start else 1)) * DAY
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{text!r} is not a date: use YYYY-MM-DD (valid through that day, UTC), "
            "an ISO date-time such as 2027-12-31T23:59:59+08:00, or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"the number {text[:40]} is too large")
    return value


def load_json(text: str, source: str) -> Any:
    """JSON as the vault accepts it (RFC 8259: no NaN or Infinity, no number too large, only
    valid Unicode), or a CliError naming ``source``. Python's own parser accepts all three, and
    the request would then fail to encode with a traceback instead of a `datavault:` line."""

    def refused(why: str) -> CliError:
        return CliError(f"{source + ' is ' if source else ''}not valid JSON: {why}")

    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
        json.dumps(value, ensure_ascii=False).encode()
    except json.JSONDecodeError as exc:
        raise refused(str(exc)) from None
    except UnicodeEncodeError:
        raise refused("a string is not valid Unicode (a lone surrogate)") from None
    except RecursionError:
        raise refused("it nests too deeply") from None
    except ValueError as exc:  # _NotJson, or an integer of thousands of digits
        raise refused(str(exc)) from None
    return value


def parse_fields(text: str) -> dict[str, Any]:
    """``--fields``: a JSON object, or ``@file.json`` (``@-`` for stdin)."""
    source = "--fields"
    if text.startswith("@"):
        source = f"--fields file {text[1:]}"
        text = read_text(text[1:], "--fields")
    fields = load_json(text, source)
    if not isinstance(fields, dict) or not fields:
        raise CliError(f'{source} must be a non-empty JSON object, e.g. \'{{"结论": "无犯罪记录"}}\'')
    return fields


def parse_list(text: str, option: str) -> list[str]:
    items = [item.strip() for item in _SEPARATORS.split(text)]
    if not all(items):
        raise CliError(f"{option}: empty item in {text!r}; separate names with commas, e.g. 姓名,准驾车型")
    return list(dict.fromkeys(items))


def parse_types(text: str) -> list[str]:
    types = parse_list(text, "--types")
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown:
        raise CliError(f"--types: unknown record type {unknown[0]!r}; use {', '.join(RECORD_TYPES)}")
    return types


def parse_id(text: str, what: str = "grant") -> str:
    if not _ID.fullmatch(text.strip()):
        where = (
            "as `datavault grants` lists them"
            if what == "grant"
            else "as `datavault demo` or `datavault delegations` shows it"
        )
        raise CliError(f"{text!r} is not a {what} id: 0x and 64 hex digits, {where}")
    return text.strip().lower()


def parse_window(until_text: str, from_text: str | None, what: str) -> tuple[int | None, int]:
    until = parse_time(until_text)
    start = None if from_text is None else parse_time(from_text, start=True)
    if until <= time.time():
        raise CliError(f"--until {until_text} is already past: the {what} would never be usable")
    if start is not None and start >= until:
        raise CliError(f"--from {from_text} is not before --until {until_text}")
    return start, until


def row_id(what: str) -> Callable[[str], int]:
    """An argparse type for a row id (a notice's, say): a whole number the database can hold."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what} id (a whole number): {text!r}") from None
        if not 1 <= value <= 2**63 - 1:
            raise argparse.ArgumentTypeError(f"not a {what} id: {value}")
        return value

    return parse


def int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}-{high}, not {value}")
        return value

    return parse


def type_bits(types: list[str]) -> int:
    from vault import record_bits  # web3 comes with it: only for the commands that need it

    return record_bits.bits_of(types)


def type_names(bits: int) -> str:
    from vault import record_bits

    return ", ".join(record_bits.names_of(bits))
