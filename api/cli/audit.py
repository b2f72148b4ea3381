"""The access log from a terminal, for auditors (registered by `api.cli`): `audit verify`,
`audit trace` and `audit heads`. A subject's own `access-log` is in `api.cli.access_log`.

stdout carries only data (JSON, JSON Lines or CSV) for scripts; what it means, in one line,
goes to stderr. `audit verify`, `audit heads` and `access-log --verify` exit 0 when everything
checks, 1 when something does not, 2 when the command could not be carried out; `audit verify`
exits 3 when no tree head is anchored on chain yet, so nothing could be proven.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any

import httpx

from api.cli.common import (
    EXIT_INVALID,
    PAGE,
    ROLES,
    CliError,
    Login,
    logged_in,
    login_as,
    pages,
    print_json,
    say,
)
from api.cli.parsing import int_in, parse_id, parse_time
from api.client import ApiError, ClientError

# `audit verify`: no finding, but no head anchored on chain to prove the log against.
EXIT_NOTHING_ANCHORED = 3
AUDITOR = "an auditor's key"
_CODE = re.compile(r"[a-z][a-z0-9-]{1,30}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ACTION = re.compile(r"[a-z][a-z_.]{0,47}")


def _role(login: Login) -> str:
    return AUDITOR if login.role == "auditor" else ROLES.get(login.role, login.role)


def _auditor(login: Login, command: str) -> None:
    if login.role != "auditor":
        raise CliError(
            f"{login.name!r} is {_role(login)}; `{command}` takes {AUDITOR} (registered by the governance admin)"
        )


# -- reading arguments (all before any network round trip) -------------------------------------


def trace_params(args: argparse.Namespace) -> dict[str, Any]:
    """The API's filter parameters from `audit trace`'s options, checked locally."""
    params: dict[str, Any] = {}
    if args.subject:
        params["subject_id"] = parse_id(args.subject, "subject")
    if args.department:
        if not _CODE.fullmatch(args.department):
            raise CliError(f"--department {args.department!r} is not a department code (e.g. renshe)")
        params["department"] = args.department
    if args.official:
        if not _ADDRESS.fullmatch(args.official):
            raise CliError(f"--official {args.official!r} is not an address: 0x and 40 hex digits")
        params["official"] = args.official
    if args.grant:
        params["grant_id"] = parse_id(args.grant)
    if args.action:
        if not _ACTION.fullmatch(args.action):
            raise CliError(f"--action {args.action!r} is not an action such as grant.used or record.issued")
        params["action"] = args.action
    if args.outcome:
        params["outcome"] = args.outcome
    if args.from_:
        params["from"] = parse_time(args.from_, start=True)
    if args.until:
        params["until"] = parse_time(args.until)
    if "from" in params and "until" in params and params["from"] >= params["until"]:
        raise CliError(f"--from {args.from_} is not before --until {args.until}")
    params["order"] = "newest" if args.newest_first else "oldest"
    return params


# -- talking to the vault ----------------------------------------------------------------------


def stream(login: Login, path: str, params: dict[str, Any], write: Callable[[str], object]) -> None:
    """A streamed download, written as it arrives: an export never sits in memory."""
    client = login.client
    headers = {"Authorization": f"Bearer {client.token}"}
    try:
        with client.http.stream("GET", path, params=params, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                try:
                    problem = response.json()
                except ValueError:
                    problem = {"title": response.reason_phrase, "detail": response.text.strip()[:200]}
                raise ApiError(response.status_code, problem if isinstance(problem, dict) else {"detail": problem})
            for text in response.iter_text():
                write(text)
    except httpx.TimeoutException:
        raise ClientError(f"the vault at {client.base_url} did not answer within {client.timeout:.0f}s") from None
    except httpx.HTTPError as exc:
        raise ClientError(f"the download from {client.base_url} broke off: {exc}") from None


# -- commands ----------------------------------------------------------------------------------


def cmd_audit_trace(args: argparse.Namespace) -> int:
    params = trace_params(args)
    with logged_in(args) as login:
        _auditor(login, "audit trace")
        if args.format != "json":
            if args.limit is not None:
                params["limit"] = args.limit
            stream(login, "/audit/export", {**params, "format": args.format}, sys.stdout.write)
            return 0
        # A JSON array written entry by entry, one per line: as long as the log, never in memory.
        count = 0
        sys.stdout.write("[")
        for page in pages(login, "/audit/entries", params, args.limit):
            for entry in page["entries"]:
                sys.stdout.write(("," if count else "") + "\n  " + json.dumps(entry, ensure_ascii=False))
                count += 1
        sys.stdout.write("\n]\n" if count else "]\n")
    say(f"{count} entr{'y' if count == 1 else 'ies'}")
    return 0


def _count(n: object, what: str) -> str:
    if what == "entr":
        return f"{n} entr{'y' if n == 1 else 'ies'}"
    return f"{n} {what}{'' if n == 1 else 's'}"


def report_summary(report: dict[str, Any]) -> str:
    checked = (
        ", ".join(
            f"{_count(report.get(key), what)}"
            for key, what in (
                ("entries_checked", "entr"),
                ("heads_checked", "signed head"),
                ("anchors_checked", "anchored head"),
            )
        )
        + " checked"
    )
    if report.get("status") == "nothing_anchored":
        return f"NOT VERIFIED: {report.get('summary')}; {checked}"
    if report.get("ok"):
        return f"ok: {report.get('summary')}; {checked}"
    findings = report.get("findings") or []
    shown = "; ".join(
        f"{f.get('kind')}{'' if f.get('seq') is None else ' at seq ' + str(f.get('seq'))}: {f.get('detail')}"
        for f in findings[:3]
    )
    more = f"; and {len(findings) - 3} more" if len(findings) > 3 else ""
    return f"FINDINGS ({len(findings)}): {shown}{more}; {checked}"


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _auditor(login, "audit verify")
        report = login.post("/audit/verify")
    print_json(report)
    say(report_summary(report))
    if report.get("status") == "nothing_anchored":
        return EXIT_NOTHING_ANCHORED
    return 0 if report.get("ok") else EXIT_INVALID


def head_text(tree_size: int, root: str, signed_at: int) -> str:
    """vault.audit.log.head_text, spelled out so that checking heads needs no database layer;
    a unit test keeps the two equal."""
    return f"datavault audit tree head\nsize: {tree_size}\nroot: {root}\ntime: {signed_at}"


def bad_signatures(found: dict[str, Any]) -> list[int]:
    """Tree sizes of the heads whose signature is not the log key's (checked here, locally);
    in an sm vault (``sm2_public_key`` given) each head's SM2 signature is checked too."""
    from keys import KeysError, Sm2PublicKey, recover_message

    sm2 = found.get("sm2_public_key")
    try:
        sm2_key = Sm2PublicKey.from_hex(sm2) if sm2 else None
    except (KeysError, ValueError):
        return [head["tree_size"] for head in found["heads"]]
    bad = []
    for head in found["heads"]:
        text = head_text(head["tree_size"], head["root"], head["signed_at"])
        try:
            good = recover_message(text, head["signature"]) == found["log_key"]
            # As the vault's own verification: a head signed before the vault moved to sm has none.
            if sm2_key is not None and head.get("sm2_signature"):
                good = good and sm2_key.verify(text.encode(), bytes.fromhex(head["sm2_signature"]))
        except (KeysError, ValueError):
            good = False
        if not good:
            bad.append(head["tree_size"])
    return bad


def cmd_audit_heads(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _auditor(login, "audit heads")
        found: dict[str, Any] = login.get(f"/audit/heads?{httpx.QueryParams({'limit': args.limit})}")
    print_json(found)
    heads = found["heads"]
    if not heads:
        say(f"no signed head yet; the log holds {found['tree_size']} entries")
        return 0
    bad = bad_signatures(found)
    missing = [h["tree_size"] for h in heads if h["status"] == "anchored" and not h["on_chain"]]
    newest = heads[0]
    where = f"anchored in block {newest['block_number']}" if newest["status"] == "anchored" else newest["status"]
    summary = f"{len(heads)} signed head{'s' if len(heads) != 1 else ''}, newest size {newest['tree_size']} ({where})"
    if bad or missing:
        problems = (
            [f"signature not by the log key {found['log_key']} at size {', '.join(map(str, bad))}"] if bad else []
        ) + ([f"recorded as anchored but not on chain at size {', '.join(map(str, missing))}"] if missing else [])
        say(f"INVALID: {'; '.join(problems)}; {summary}")
        return EXIT_INVALID
    also = " and its SM2 key's" if found.get("sm2_public_key") else ""
    say(f"{summary}; every signature is the log key's ({found['log_key']}){also}, checked here")
    return 0


# -- arguments ---------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser(
        "audit", help="the access log, for auditors: verify it, trace accesses, list its signed heads"
    )
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="{verify,trace,heads}")

    v = commands.add_parser(
        "verify",
        help="check the whole log against its signed heads and the chain "
        "(exit 0 ok, 1 findings, 3 nothing anchored yet)",
    )
    login_as(v, "an auditor's key, e.g. auditor")
    v.set_defaults(func=cmd_audit_verify)

    t = commands.add_parser("trace", help="the accesses matching every filter given, oldest first")
    login_as(t, "an auditor's key, e.g. auditor")
    t.add_argument("--subject", metavar="ID", help="subject id (0x and 64 hex digits)")
    t.add_argument("--department", metavar="CODE", help="the acting department's code, e.g. renshe")
    t.add_argument("--official", metavar="ADDR", help="the acting official's login address")
    t.add_argument("--grant", metavar="ID", help="grant id")
    t.add_argument("--action", metavar="A", help="e.g. grant.used, grant.refused, record.issued, credential.verified")
    t.add_argument("--outcome", choices=["ok", "refused"])
    t.add_argument(
        "--from",
        dest="from_",
        metavar="WHEN",
        help="from: YYYY-MM-DD (from the start of that day, UTC), an ISO date-time, or Unix seconds",
    )
    t.add_argument(
        "--until", metavar="WHEN", help="until: YYYY-MM-DD (through that day, UTC), an ISO date-time, or Unix seconds"
    )
    t.add_argument("--limit", type=int_in(1, 2**63 - 1), metavar="N", help="at most N entries (default: all)")
    t.add_argument("--newest-first", action="store_true")
    t.add_argument(
        "--format",
        choices=["json", "jsonl", "csv"],
        default="json",
        help="json: an array (default); jsonl and csv stream the export, the CSV's last column the entry as hashed",
    )
    t.set_defaults(func=cmd_audit_trace)

    hd = commands.add_parser(
        "heads", help="signed tree heads, their anchoring and the log key; signatures checked here"
    )
    login_as(hd, "an auditor's key, e.g. auditor")
    hd.add_argument(
        "--limit", type=int_in(1, PAGE), default=100, metavar="N", help=f"the newest N heads (1-{PAGE}, default 100)"
    )
    hd.set_defaults(func=cmd_audit_heads)
