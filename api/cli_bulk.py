"""`datavault issue-bulk`: issue thousands of credentials from a CSV or JSON-lines file
(registered by `api.cli`).

The file is read and checked locally first (every line, before any request), then the vault
checks every item (``dry_run``: known subjects, valid identifiers and windows) chunk by chunk,
and only then are the chunks issued, so a bad line normally leaves nothing issued. Errors name
the file's line. Progress goes to stderr; stdout carries JSON only: the issued records (with
their line numbers) and, with ``--wait``, the anchor transactions.

CSV (UTF-8, a header row; one credential per row):
  kind, identifier   the subject (kind: citizen | enterprise, default citizen), or
  subject_id         the subject's pseudonymous id
  type               licence | certificate | data
  title              the credential's title
  valid_until        YYYY-MM-DD (valid through that day, UTC), ISO date-time or Unix seconds
  valid_from         optional (default now); a bare date starts at that day's midnight
  fields             optional: a JSON object of fields
  any other column   a field, named by its header, with the cell's text (empty cells skipped)

JSON lines (one JSON object per line, blank lines skipped): the body ``POST /records`` takes,
``{"subject": {...}, "type", "title", "fields", "valid_until", "valid_from"}``; the subject
may also be given as top-level ``kind``/``identifier`` or ``subject_id``, and the times as
dates as in CSV.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from api.cli import CliError, _read_text, client_factory, login_key, parse_time, print_json
from api.client import ApiError, VaultClient

MAX_CHUNK = 10_000  # api.schemas.records.MAX_BULK
# As few anchor transactions as possible: one request, one root (the submitter anchors each
# request in one transaction). A smaller chunk only makes the progress bar finer.
DEFAULT_CHUNK = 10_000
SUBJECT_COLUMNS = ("kind", "identifier", "subject_id")
KNOWN_COLUMNS = (*SUBJECT_COLUMNS, "type", "title", "valid_from", "valid_until", "fields")
RECORD_TYPES = ("licence", "certificate", "data")
POLL = 1.0
# How the API names an item: "item 7: <reason>" (the vault's checks), "items.7.<field>: <msg>" (the schema).
_ITEM = (re.compile(r"^item (\d+): (.*)$", re.DOTALL), re.compile(r"^items\.(\d+)\.?(.*)$", re.DOTALL))


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, one line per step
    otherwise (a log file gets a readable history instead of carriage returns)."""

    WIDTH = 30

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        filled = self.WIDTH * done // self.total if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        text = f"{self.label} [{bar}] {done:,}/{self.total:,} {time.monotonic() - self.started:.1f}s"
        if self.tty:
            self.stream.write("\r" + text)
            if done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


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


def _item(subject: dict[str, str], row: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    kind = row.get("type")
    if kind not in RECORD_TYPES:
        raise CliError(f"type must be one of {', '.join(RECORD_TYPES)}, not {kind!r}")
    title = row.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CliError("title is missing")
    if not fields:
        raise CliError("no fields: give a fields column (a JSON object) or other columns")
    item: dict[str, Any] = {
        "subject": subject, "type": kind, "title": title, "fields": fields,
        "valid_until": _when(row.get("valid_until"), "valid_until"),
    }
    if row.get("valid_from") not in (None, ""):
        item["valid_from"] = _when(row["valid_from"], "valid_from", start=True)
    return item


def _json_fields(text: str) -> dict[str, Any]:
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"the fields column is not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise CliError("the fields column must be a JSON object")
    return fields


def read_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise CliError("line 1: the CSV file has no header row")
    reader.fieldnames = header
    for required in ("type", "title", "valid_until"):
        if required not in header:
            raise CliError(f"line 1: the CSV header lacks a {required} column (it has {', '.join(header)})")
    if "identifier" not in header and "subject_id" not in header:
        raise CliError("line 1: the CSV header needs an identifier (with kind) or a subject_id column")
    if len(set(header)) != len(header) or "" in header:
        raise CliError("line 1: the CSV header has an empty or repeated column name")
    extra = [h for h in header if h not in KNOWN_COLUMNS]
    items: list[tuple[int, dict[str, Any]]] = []
    for row in reader:
        # The row's first line: where it ends, less the line breaks inside quoted cells
        # (blank lines, which DictReader skips, are counted in line_num too).
        first = reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str))
        if None in row:
            raise CliError(f"line {first}: more cells than the header has columns")
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
            items.append((first, _item(_subject(cells), cells, fields)))
        except CliError as exc:
            raise CliError(f"line {first}: {exc}") from None
    return items


def read_jsonl(text: str) -> list[tuple[int, dict[str, Any]]]:
    items: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise CliError(f"not valid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise CliError("expected a JSON object")
            unknown = sorted(set(row) - {*KNOWN_COLUMNS, "subject"})
            if unknown:
                raise CliError(f"unknown key(s) {', '.join(unknown)}")
            if "subject" in row:
                if any(k in row for k in SUBJECT_COLUMNS) or not isinstance(row["subject"], dict):
                    raise CliError("subject must be an object, and then no top-level kind/identifier/subject_id")
                subject = _subject(row["subject"])
            else:
                subject = _subject(row)
            fields = row.get("fields")
            if not isinstance(fields, dict):
                raise CliError("fields must be a JSON object")
            items.append((number, _item(subject, row, fields)))
        except CliError as exc:
            raise CliError(f"line {number}: {exc}") from None
    return items


def read_items(source: str, fmt: str | None) -> list[tuple[int, dict[str, Any]]]:
    """(line number, API item) for every credential in ``source`` ('-' for stdin)."""
    text = _read_text(source, "credentials")
    if fmt is None:
        suffix = Path(source).suffix.lower()
        if suffix == ".csv":
            fmt = "csv"
        elif suffix in (".jsonl", ".ndjson", ".json"):
            fmt = "jsonl"
        else:
            fmt = "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
    items = read_csv(text) if fmt == "csv" else read_jsonl(text)
    if not items:
        raise CliError(f"{source} holds no credentials")
    return items


# -- sending -------------------------------------------------------------------------------


def _refused(exc: ApiError, lines: list[int]) -> CliError:
    """The API's refusal of one chunk, pointed at the line of the file whose item it names:
    "item 7: subject not found: 0x..." (the vault's checks) or "items.7.type: ..." (the schema)."""
    detail = str(exc.problem.get("detail") or exc)
    match = _ITEM[0].match(detail) or _ITEM[1].match(detail)
    if match and int(match.group(1)) < len(lines):
        return CliError(f"line {lines[int(match.group(1))]}: {match.group(2) or detail}")
    return CliError(str(exc))


def _chunks(items: list[tuple[int, dict[str, Any]]], size: int) -> list[list[tuple[int, dict[str, Any]]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _send(client: VaultClient, chunk: list[tuple[int, dict[str, Any]]], *, dry_run: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"items": [item for _, item in chunk]}
    if dry_run:
        body["dry_run"] = True
    try:
        answer: dict[str, Any] = client.request("POST", "/records/bulk", body)
    except ApiError as exc:
        raise _refused(exc, [line for line, _ in chunk]) from None
    return answer


def wait_for_anchors(client: VaultClient, ids: list[str], timeout: float, progress: Progress) -> list[dict[str, Any]]:
    """Poll until no record is pending; returns one entry per anchor transaction."""
    deadline = time.monotonic() + timeout
    while True:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), MAX_CHUNK):
            rows += client.request("POST", "/records/status", {"ids": ids[start : start + MAX_CHUNK]})
        settled = [r for r in rows if r["status"] not in ("pending",) and (r["status"] != "anchored" or r["tx_hash"])]
        progress.update(len(settled))
        if len(settled) == len(rows):
            break
        if time.monotonic() > deadline:
            raise CliError(
                f"{len(rows) - len(settled):,} of {len(rows):,} credentials are not anchored after {timeout:.0f}s; "
                "they stay queued: check later with --wait again or `verify`"
            )
        time.sleep(POLL)
    anchors: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["tx_hash"]:
            entry = anchors.setdefault(r["tx_hash"], {"tx_hash": r["tx_hash"], "block_number": r["block_number"], "root": r["root"], "count": 0})
            entry["count"] += 1
    failed = [r["id"] for r in rows if r["status"] not in ("anchored", "revoking", "revoked")]
    if failed:
        raise CliError(f"{len(failed):,} credentials were not anchored (status failed), e.g. {failed[0]}")
    return list(anchors.values())


def cmd_issue_bulk(args: argparse.Namespace) -> int:
    items = read_items(args.file, args.format)
    key = login_key(args.datadir, args.as_)
    chunks = _chunks(items, args.chunk)
    issued: list[dict[str, Any]] = []
    with client_factory(args)() as client:
        client.login(key)
        if not args.no_check:
            checking = Progress("checking", len(items))
            done = 0
            for chunk in chunks:
                _send(client, chunk, dry_run=True)
                done += len(chunk)
                checking.update(done)
        progress = Progress("issuing ", len(items))
        try:
            for chunk in chunks:
                answer = _send(client, chunk, dry_run=False)
                issued += [{"line": line, **rec} for (line, _), rec in zip(chunk, answer["records"])]
                progress.update(len(issued))
        except CliError as exc:
            if issued:
                print_json({"count": len(issued), "records": issued})
                raise CliError(f"{exc}; the {len(issued):,} credentials before it were issued (listed on stdout)") from None
            raise
        result: dict[str, Any] = {"count": len(issued), "records": issued}
        if args.wait:
            anchoring = Progress("anchored", len(issued))
            result["anchors"] = wait_for_anchors(client, [r["id"] for r in issued], args.timeout, anchoring)
    print_json(result)
    if args.wait:
        for anchor in result["anchors"]:
            print(f"anchor {anchor['tx_hash']} (block {anchor['block_number']}): {anchor['count']:,} credentials", file=sys.stderr)
    else:
        print(f"issued {len(issued):,} credentials; they are anchored shortly (--wait waits for it)", file=sys.stderr)
    return 0


def _chunk_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_CHUNK:
        raise argparse.ArgumentTypeError(f"must be 1-{MAX_CHUNK:,}, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "issue-bulk", help="issue many credentials from a CSV or JSON-lines file as a department",
        description=(__doc__ or "").split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--as", dest="as_", required=True, metavar="KEY", help="keystore entry of the department's login key, e.g. dept-gongan")
    p.add_argument("file", help="CSV or JSON-lines file, - for stdin")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: by the file's suffix (.csv, .jsonl), else by its content")
    p.add_argument(
        "--chunk", type=_chunk_size, default=DEFAULT_CHUNK,
        help=f"credentials per request (default {DEFAULT_CHUNK:,}, at most {MAX_CHUNK:,}; one request is anchored in one transaction)",
    )
    p.add_argument("--no-check", action="store_true", help="skip the vault's check of every chunk before issuing")
    p.add_argument("--wait", action="store_true", help="wait until every credential is anchored and print the anchor transactions")
    p.add_argument("--timeout", type=_seconds, default=300.0, help="seconds --wait waits at most (default 300)")
    p.set_defaults(func=cmd_issue_bulk)
