"""Corrections (纠错) from a terminal: `correct`, `corrections`, `decide` and `notifications`
(registered by `api.cli`).

A subject (or its agent, with --for) asks the issuing department to correct a record; the
department lists the requests and accepts or rejects them; departments that read an outdated
version list their notifications. Arguments are checked before any network round trip;
stdout carries only the API's JSON, a summary goes to stderr.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from api.cli.common import ROLES, CliError, Login, acting_base, logged_in, print_json, say
from api.cli.parsing import parse_fields, parse_id, row_id
from api.client import command

MAX_TEXT = 500
STATUSES = ("requested", "accepted", "rejected", "erased")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_uuid(text: str, what: str, where: str) -> str:
    if not _UUID.fullmatch(text.strip()):
        raise CliError(f"{text!r} is not a {what} id: a UUID such as 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b, {where}")
    return text.strip().lower()


def parse_text(text: str | None, option: str, *, example: str) -> str:
    value = (text or "").strip()
    if not value:
        raise CliError(f"{option} must say why, in words, e.g. {example!r}")
    if len(value) > MAX_TEXT:
        raise CliError(f"{option} is {len(value)} characters long; at most {MAX_TEXT}")
    return value


def _department_only(login: Login, doing: str) -> None:
    if login.role != "department":
        raise CliError(f"{login.name!r} is {ROLES.get(login.role, login.role)}; {doing} takes a department's key")


# -- commands ----------------------------------------------------------------------------------


def cmd_correct(args: argparse.Namespace) -> int:
    record = parse_uuid(args.record, "record", 'the "id" `datavault records` lists')
    reason = parse_text(args.reason, "--reason", example="姓名错误")
    fields = parse_fields(args.fields)
    subject = parse_id(args.for_, "subject") if args.for_ else None
    with logged_in(args) as login:
        base, _ = acting_base(login, subject, "asking for a correction")
        result = login.post(f"{base}/records/{record}/corrections", {"reason": reason, "fields": fields})
    print_json(result)
    say(
        f"correction {result['id']} asked of {result['issuer']} for version {result['record_version']} of "
        f"record {record}; "
        f"`{command(args.datadir, f'corrections --as {args.as_}')}` shows its decision"
    )
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    subject = parse_id(args.for_, "subject") if args.for_ else None
    with logged_in(args) as login:
        if login.role == "department" and subject is None:
            path = "/corrections" + (f"?status={args.status}" if args.status else "")
            result: list[dict[str, Any]] = login.every(path, "corrections")
        else:
            if login.role not in ("subject", "delegate"):
                raise CliError(
                    f"{login.name!r} is {ROLES.get(login.role, login.role)}; `corrections` takes a citizen's, "
                    "enterprise's or department's key, or an agent's with --for"
                )
            base, _ = acting_base(login, subject, "`corrections`")
            listed = login.every(f"{base}/corrections", "corrections")
            result = [c for c in listed if args.status in (None, c.get("status"))]
    print_json(result)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    correction = parse_uuid(args.correction, "correction", "as `datavault corrections` lists them")
    if args.reject:
        note = parse_text(args.note, "--note", example="与户籍登记一致，无需更正")
    else:
        note = (args.note or "").strip()
        if len(note) > MAX_TEXT:
            raise CliError(f"--note is {len(note)} characters long; at most {MAX_TEXT}")
    verdict = "accept" if args.accept else "reject"
    with logged_in(args) as login:
        _department_only(login, "`decide`")
        result = login.post(f"/corrections/{correction}/{verdict}", {"note": note} if note else {})
    print_json(result)
    if args.accept:
        notified = ", ".join(result.get("notified") or []) or "no department (none read it under a grant)"
        say(
            f"accepted: version {result['record']['version']} issued (anchored in seconds), "
            f"version {result['correction']['record_version']} revoked; notified {notified}"
        )
    else:
        say(f"rejected: record {result['correction']['record_id']} stays as it was")
    return 0


def cmd_notifications(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _department_only(login, "`notifications`")
        if args.read is not None:
            result: Any = login.post(f"/notifications/{args.read}/read")
        else:
            result = login.every("/notifications" + ("?unread=true" if args.unread else ""), "notifications")
    print_json(result)
    return 0


# -- arguments ---------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def login_as(p: argparse.ArgumentParser, whose: str) -> None:
        p.add_argument("--as", dest="as_", required=True, metavar="KEY", help=f"keystore entry of {whose}")

    def acting_for(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--for", dest="for_", metavar="SUBJECT_ID", help="the subject an agent's or guardian's key acts for"
        )

    c = sub.add_parser("correct", help="ask the issuing department to correct one of your records (纠错)")
    login_as(c, "the subject's key, or its agent's (with --for)")
    c.add_argument("record", help="record id, as `datavault records` lists them")
    c.add_argument("--reason", required=True, help="why, in words, e.g. 姓名错误")
    c.add_argument(
        "--fields",
        required=True,
        help="the corrected values as a JSON object (merged over the record's), or @file.json",
    )
    acting_for(c)
    c.set_defaults(func=cmd_correct)

    ls = sub.add_parser("corrections", help="a subject's correction requests, or those about a department's records")
    login_as(ls, "a subject's, agent's (with --for) or department's key")
    ls.add_argument("--status", choices=STATUSES, help="only requests in this state")
    acting_for(ls)
    ls.set_defaults(func=cmd_corrections)

    d = sub.add_parser("decide", help="accept or reject a correction request, as the issuing department")
    login_as(d, "the issuing department's key, e.g. dept-gongan")
    d.add_argument("correction", help="correction id, as `datavault corrections` lists them")
    verdict = d.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", action="store_true", help="issue the corrected version and revoke the old one")
    verdict.add_argument("--reject", action="store_true", help="leave the record as it is (needs --note)")
    d.add_argument("--note", help="the decision's note (required with --reject)")
    d.set_defaults(func=cmd_decide)

    n = sub.add_parser("notifications", help="corrections of records this department read (outdated copies)")
    login_as(n, "the department's key, e.g. dept-renshe")
    which = n.add_mutually_exclusive_group()
    which.add_argument("--unread", action="store_true", help="only those not marked read")
    which.add_argument("--read", type=row_id("notification"), metavar="ID", help="mark notification ID read")
    n.set_defaults(func=cmd_notifications)
