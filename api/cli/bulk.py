"""`datavault issue-bulk`: issue thousands of credentials from a CSV or JSON-lines file
(registered by `api.cli`).

The file is read and checked locally first (every line, before any request), then the vault
checks every item (``dry_run``: known subjects, valid identifiers and windows) chunk by chunk,
and only then are the chunks issued, so a bad line normally leaves nothing issued. Every bad
line is reported in one pass (the first 100 problems; the rest are counted), named by the
file's line number and its subjects by the identifiers the file used. ``--dry-run`` stops after
the vault's check. Progress goes to stderr; stdout carries JSON only: the issued records (with
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

GB/T 36903 column names are read too: 名称 (title), 持证主体代码 (identifier),
持证主体代码类型 (kind: citizen | enterprise | 居民身份证 | 统一社会信用代码); 类型代码, 编号,
标识, 颁发机构名称, 颁发日期 (YYYY-MM-DD) and 持证主体名称 are fields of those names, checked
(类型代码 and 标识 by their check characters; 标识 and 颁发机构名称 must be the issuing
department's). Without a type column, 类型代码's last 3 digits name the record type
(001 licence, 002 certificate, 003 data).

JSON lines (one JSON object per line, blank lines skipped): the body ``POST /records`` takes,
``{"subject": {...}, "type", "title", "fields", "valid_until", "valid_from"}``; the subject
may also be given as top-level ``kind``/``identifier`` or ``subject_id``, and the times as
dates as in CSV.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from api.cli.bulk_file import BadLines, read_items
from api.cli.common import CliError, client_factory, login_key, print_json
from api.client import ApiError, ClientError, VaultClient

MAX_CHUNK = 10_000  # api.schemas.records.MAX_BULK
# As few anchor transactions as possible: one request, one root (the submitter anchors each
# request in one transaction). A smaller chunk only makes the progress bar finer.
DEFAULT_CHUNK = 10_000
POLL = 1.0


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


# -- sending -------------------------------------------------------------------------------


def _named(exc: ApiError, count: int) -> tuple[list[tuple[int, str]], int, bool] | None:
    """The problems a refusal of ``count`` items names: (item index, reason) each, how many in
    all, and whether the request's schema refused (so the vault checked nothing). None if it
    names no item. The vault lists ``{index, field, reason}`` (``more_errors`` beyond them),
    the schema ``{loc: [body, items, index, ...], msg}``."""
    errors = exc.problem.get("errors") if exc.status == 422 else None
    if not isinstance(errors, list):
        return None
    found: list[tuple[int, str]] = []
    schema = False
    for error in errors:
        if not isinstance(error, dict):
            continue
        index, reason = error.get("index"), str(error.get("reason", ""))
        loc = error.get("loc")
        if (
            not isinstance(index, int)
            and isinstance(loc, list)
            and len(loc) > 2
            and loc[1] == "items"
            and str(loc[2]).isdigit()
        ):
            index, where, schema = int(loc[2]), ".".join(str(part) for part in loc[3:]), True
            reason = f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))
        if isinstance(index, int) and 0 <= index < count:
            found.append((index, reason))
    if not found:
        return None
    more = exc.problem.get("more_errors")
    return found, len(found) + (more if isinstance(more, int) and more > 0 else 0), schema


def _refused(exc: ApiError, lines: list[int]) -> CliError:
    """The API's refusal of one chunk, pointed at the lines of the file whose items it names."""
    named = _named(exc, len(lines))
    if named is None:
        return CliError(str(exc))
    found, total, _schema = named
    return BadLines([(lines[index], reason) for index, reason in found], total)


def _chunks(items: list[tuple[int, dict[str, Any]]], size: int) -> list[list[tuple[int, dict[str, Any]]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _post(client: VaultClient, chunk: list[tuple[int, dict[str, Any]]], *, dry_run: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"items": [item for _, item in chunk]}
    if dry_run:
        body["dry_run"] = True
    answer: dict[str, Any] = client.request("POST", "/records/bulk", body)
    return answer


def _send(client: VaultClient, chunk: list[tuple[int, dict[str, Any]]], *, dry_run: bool) -> dict[str, Any]:
    try:
        return _post(client, chunk, dry_run=dry_run)
    except ApiError as exc:
        raise _refused(exc, [line for line, _ in chunk]) from None


def check(
    client: VaultClient, chunks: list[list[tuple[int, dict[str, Any]]]], progress: Progress
) -> tuple[list[tuple[int, str]], int]:
    """The vault's check of every chunk (``dry_run``: nothing is written): every problem it
    names, at the file's lines, and how many there are in all."""
    problems: list[tuple[int, str]] = []
    total = done = 0
    for chunk in chunks:
        pending = chunk
        while pending:
            try:
                _post(client, pending, dry_run=True)
                break
            except ApiError as exc:
                named = _named(exc, len(pending))
                if named is None:
                    raise CliError(str(exc)) from None
                found, count, schema = named
                problems += [(pending[index][0], reason) for index, reason in found]
                total += count
                if not schema:
                    break
                # The request's schema refused these items before the vault saw any item:
                # the vault checks the others, so one pass still names every bad line.
                refused = {index for index, _ in found}
                pending = [entry for index, entry in enumerate(pending) if index not in refused]
        done += len(chunk)
        progress.update(done)
    return problems, total


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
            entry = anchors.setdefault(
                r["tx_hash"],
                {"tx_hash": r["tx_hash"], "block_number": r["block_number"], "root": r["root"], "count": 0},
            )
            entry["count"] += 1
    failed = [r["id"] for r in rows if r["status"] not in ("anchored", "revoking", "revoked")]
    if failed:
        raise CliError(f"{len(failed):,} credentials were not anchored (status failed), e.g. {failed[0]}")
    return list(anchors.values())


def _check_rest(
    args: argparse.Namespace, items: list[tuple[int, dict[str, Any]]], bad: list[tuple[int, str]]
) -> BadLines:
    """Lines of the file are bad already; the vault checks the good ones too, so that one pass
    names every bad line. If it cannot be asked, the report says so."""
    if not items or args.no_check:
        return BadLines(bad)
    try:
        key = login_key(args.datadir, args.as_)
        with client_factory(args)() as client:
            client.login(key)
            found, total = check(client, _chunks(items, args.chunk), Progress("checking", len(items)))
    except (CliError, ClientError) as exc:
        return BadLines(bad, note=f"the vault did not check the other lines: {exc}")
    return BadLines(bad + found, len(bad) + total)


def cmd_issue_bulk(args: argparse.Namespace) -> int:
    if args.dry_run and (args.no_check or args.wait):
        raise CliError("--dry-run only checks: it goes with neither --no-check nor --wait")
    bad: list[tuple[int, str]] = []
    items = read_items(args.file, args.format, bad)
    if bad:
        raise _check_rest(args, items, bad)
    key = login_key(args.datadir, args.as_)
    chunks = _chunks(items, args.chunk)
    issued: list[dict[str, Any]] = []
    with client_factory(args)() as client:
        client.login(key)
        if not args.no_check:
            found, total = check(client, chunks, Progress("checking", len(items)))
            if found:
                raise BadLines(found, total)
        if args.dry_run:
            print_json({"count": len(items), "dry_run": True})
            print(f"checked {len(items):,} credentials: every one can be issued; nothing was issued", file=sys.stderr)
            return 0
        progress = Progress("issuing ", len(items))
        try:
            for chunk in chunks:
                answer = _send(client, chunk, dry_run=False)
                issued += [{"line": line, **rec} for (line, _), rec in zip(chunk, answer["records"], strict=False)]
                progress.update(len(issued))
        except CliError as exc:
            if issued:
                print_json({"count": len(issued), "records": issued})
                raise CliError(
                    f"{exc}; the {len(issued):,} credentials before it were issued (listed on stdout)"
                ) from None
            raise
        result: dict[str, Any] = {"count": len(issued), "records": issued}
        if args.wait:
            anchoring = Progress("anchored", len(issued))
            result["anchors"] = wait_for_anchors(client, [r["id"] for r in issued], args.timeout, anchoring)
    print_json(result)
    if args.wait:
        for anchor in result["anchors"]:
            print(
                f"anchor {anchor['tx_hash']} (block {anchor['block_number']}): {anchor['count']:,} credentials",
                file=sys.stderr,
            )
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
        "issue-bulk",
        help="issue many credentials from a CSV or JSON-lines file as a department",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--as",
        dest="as_",
        required=True,
        metavar="KEY",
        help="keystore entry of the department's login key, e.g. dept-gongan",
    )
    p.add_argument("file", help="CSV or JSON-lines file, - for stdin")
    p.add_argument(
        "--format", choices=["csv", "jsonl"], help="default: by the file's suffix (.csv, .jsonl), else by its content"
    )
    p.add_argument(
        "--chunk",
        type=_chunk_size,
        default=DEFAULT_CHUNK,
        help=f"credentials per request (default {DEFAULT_CHUNK:,}, at most {MAX_CHUNK:,}; "
        "one request is anchored in one transaction)",
    )
    p.add_argument("--no-check", action="store_true", help="skip the vault's check of every chunk before issuing")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only check the whole file with the vault and report every bad line; issue nothing",
    )
    p.add_argument(
        "--wait", action="store_true", help="wait until every credential is anchored and print the anchor transactions"
    )
    p.add_argument("--timeout", type=_seconds, default=300.0, help="seconds --wait waits at most (default 300)")
    p.set_defaults(func=cmd_issue_bulk)
