"""The credentials file of `datavault issue-bulk`, read into API items: CSV or JSON lines,
every line checked before any request, every bad line reported (``BadLines``). The formats are
described in ``api.cli.bulk``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from api.cli.common import CliError, read_text
from api.cli.parsing import load_json, parse_time
from vault import licence_codes
from vault.errors import VaultValueError
from vault.record_types import GBT_TYPE_SEQUENCE, RECORD_TYPES

SUBJECT_COLUMNS = ("kind", "identifier", "subject_id")
KNOWN_COLUMNS = (*SUBJECT_COLUMNS, "type", "title", "valid_from", "valid_until", "fields")
MAX_SHOWN = 100  # problems listed in one report; the rest are counted
# The column names of GB/T 36903 (a national e-licence platform's export): these three name
# what the file's own columns name; 类型代码, 编号, 标识, 颁发机构名称, 颁发日期 and
# 持证主体名称 are fields of those names, checked here and by the vault.
ALIASES = {"名称": "title", "持证主体代码": "identifier", "持证主体代码类型": "kind"}
GBT_FIELDS = tuple(n for n in licence_codes.ELEMENTS if n != licence_codes.NAME)
# 持证主体代码类型 as a platform may write it.
_KINDS = {"身份证": "citizen", "居民身份证": "citizen", "统一社会信用代码": "enterprise"}
_BY_SEQUENCE = {seq: kind for kind, seq in GBT_TYPE_SEQUENCE.items()}


class BadLines(CliError):
    """Lines of the file that cannot be issued: ``problems`` (line, reason) in line order, the
    first ``MAX_SHOWN`` of ``total``; ``note`` says what was not checked."""

    def __init__(self, problems: list[tuple[int, str]], total: int | None = None, note: str = "") -> None:
        self.problems = sorted(problems, key=lambda p: p[0])[:MAX_SHOWN]
        self.total = max(total or 0, len(problems))
        self.note = note
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [f"line {line}: {reason}" for line, reason in self.problems]
        note = f" ({self.note})" if self.note else ""
        if self.total == 1:
            return lines[0] + note  # one problem: one line, as every other refusal
        more = self.total - len(self.problems)
        head = f"{self.total:,} problems in the file; nothing was issued{note}:"
        return "\n  ".join([head, *lines, *([f"... and {more:,} more"] if more else [])])


# -- reading the file (all before any network round trip) -------------------------------------


def _when(value: Any, what: str, *, start: bool = False) -> int:
    if isinstance(value, bool) or value is None:
        raise CliError(f"{what} must be a date, a date-time or Unix seconds")
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value.strip():
        raise CliError(f"{what} must be a date, a date-time or Unix seconds")
    return parse_time(value, start=start)


def _subject(row: dict[str, Any]) -> dict[str, str]:
    kind, identifier, subject_id = (row.get(k) or None for k in SUBJECT_COLUMNS)
    if subject_id and identifier:
        raise CliError("give subject_id or identifier, not both")
    if subject_id:
        return {"subject_id": str(subject_id).strip()}
    if not identifier:
        raise CliError("no subject: give identifier (with kind) or subject_id")
    kind = str(kind or "citizen").strip()
    if kind not in ("citizen", "enterprise"):
        raise CliError(f"kind must be citizen or enterprise, not {kind!r}")
    return {"kind": kind, "identifier": str(identifier).strip()}


def _aliased(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the GB/T column names read as the file's own."""
    found = dict(row)
    for alias, name in ALIASES.items():
        if alias in found:
            if found.get(name) not in (None, ""):
                raise CliError(f"give {name} or {alias}, not both")
            value = found.pop(alias)
            found[name] = _KINDS.get(value, value) if name == "kind" and isinstance(value, str) else value
    return found


def _check_gbt(row: dict[str, Any], fields: dict[str, Any]) -> None:
    """The GB/T 36903 fields well formed, and the record type from 类型代码 if no type is given."""
    try:
        if (code := fields.get(licence_codes.TYPE_CODE)) is not None:
            if (problem := licence_codes.type_code_problem(code)) is not None:
                raise CliError(f"类型代码 {code!r} {problem}")
            if row.get("type") in (None, ""):
                if code[18:] not in _BY_SEQUENCE:
                    known = ", ".join(f"{seq} {kind}" for kind, seq in GBT_TYPE_SEQUENCE.items())
                    raise CliError(f"类型代码 {code} ends in no record type's sequence ({known}): give a type column")
                row["type"] = _BY_SEQUENCE[code[18:]]
        if (ident := fields.get(licence_codes.IDENTIFIER)) is not None:
            licence_codes.parse_identifier(ident)
        if (day := fields.get(licence_codes.ISSUE_DATE)) is not None:
            licence_codes.check_date(day)
    except VaultValueError as exc:
        raise CliError(exc.reason) from None


def _item(subject: dict[str, str], row: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    _check_gbt(row, fields)
    kind = row.get("type")
    if kind not in RECORD_TYPES:
        raise CliError(f"type must be one of {', '.join(RECORD_TYPES)}, not {kind!r}")
    title = row.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CliError("title is missing")
    if not fields:
        raise CliError("no fields: give a fields column (a JSON object) or other columns")
    item: dict[str, Any] = {
        "subject": subject,
        "type": kind,
        "title": title,
        "fields": fields,
        "valid_until": _when(row.get("valid_until"), "valid_until"),
    }
    if row.get("valid_from") not in (None, ""):
        item["valid_from"] = _when(row["valid_from"], "valid_from", start=True)
    return item


def _json_fields(text: str) -> dict[str, Any]:
    fields = load_json(text, "the fields column")
    if not isinstance(fields, dict):
        raise CliError("the fields column must be a JSON object")
    return fields


def read_csv(text: str, problems: list[tuple[int, str]] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(line, API item) of every good row; a bad row's problem is appended to ``problems``
    (without it: BadLines, once every row is read). A bad header raises at once."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise CliError("line 1: the CSV file has no header row")
    reader.fieldnames = header
    names = {ALIASES.get(h, h) for h in header}  # a column named both ways is refused per row
    for required in ("type", "title", "valid_until"):
        if required not in names and not (required == "type" and licence_codes.TYPE_CODE in names):
            raise CliError(f"line 1: the CSV header lacks a {required} column (it has {', '.join(header)})")
    if "identifier" not in names and "subject_id" not in names:
        raise CliError("line 1: the CSV header needs an identifier (with kind) or a subject_id column")
    if len(set(header)) != len(header) or "" in header:
        raise CliError("line 1: the CSV header has an empty or repeated column name")
    extra = [h for h in header if h not in KNOWN_COLUMNS and h not in ALIASES]
    items: list[tuple[int, dict[str, Any]]] = []
    bad: list[tuple[int, str]] = [] if problems is None else problems
    for row in reader:
        # The row's first line: where it ends, less the line breaks inside quoted cells
        # (blank lines, which DictReader skips, are counted in line_num too).
        first = reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str))
        if None in row:
            bad.append((first, "more cells than the header has columns"))
            continue
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue
        try:
            fields = _json_fields(cells["fields"]) if cells.get("fields") else {}
            for name in extra:
                if cells[name] == "":
                    continue
                if name in fields:
                    raise CliError(f"field {name!r} is both a column and in the fields column")
                fields[name] = cells[name]
            cells = _aliased(cells)
            items.append((first, _item(_subject(cells), cells, fields)))
        except CliError as exc:
            bad.append((first, str(exc)))
    if bad and problems is None:
        raise BadLines(bad)
    return items


def read_jsonl(text: str, problems: list[tuple[int, str]] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """As ``read_csv``, for one JSON object per line."""
    items: list[tuple[int, dict[str, Any]]] = []
    bad: list[tuple[int, str]] = [] if problems is None else problems
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = load_json(raw, "")
            if not isinstance(row, dict):
                raise CliError("expected a JSON object")
            row = _aliased(row)
            unknown = sorted(set(row) - {*KNOWN_COLUMNS, *GBT_FIELDS, "subject"})
            if unknown:
                raise CliError(f"unknown key(s) {', '.join(unknown)}")
            if "subject" in row:
                if any(k in row for k in SUBJECT_COLUMNS) or not isinstance(row["subject"], dict):
                    raise CliError("subject must be an object, and then no top-level kind/identifier/subject_id")
                subject = _subject(row["subject"])
            else:
                subject = _subject(row)
            fields = row.get("fields", {} if any(n in row for n in GBT_FIELDS) else None)
            if not isinstance(fields, dict):
                raise CliError("fields must be a JSON object")
            for name in GBT_FIELDS:  # a GB/T item at the top level is a field of that name
                if name in row:
                    if name in fields:
                        raise CliError(f"{name} is both a key and in fields")
                    fields = {**fields, name: row[name]}
            items.append((number, _item(subject, row, fields)))
        except CliError as exc:
            bad.append((number, str(exc)))
    if bad and problems is None:
        raise BadLines(bad)
    return items


def read_items(
    source: str,
    fmt: str | None,
    problems: list[tuple[int, str]] | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, API item) for every good credential in ``source`` ('-' for stdin); the
    problems of bad lines as ``read_csv`` says."""
    text = read_text(source, "credentials")
    if fmt is None:
        suffix = Path(source).suffix.lower()
        if suffix == ".csv":
            fmt = "csv"
        elif suffix in (".jsonl", ".ndjson", ".json"):
            fmt = "jsonl"
        else:
            fmt = "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
    items = read_csv(text, problems) if fmt == "csv" else read_jsonl(text, problems)
    if not items and not problems:
        raise CliError(f"{source} holds no credentials")
    return items
