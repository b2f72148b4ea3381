"""Retention rules from a terminal: `retention` (registered by `api.cli`).

The governance admin keeps each record type so many days after its records expire; the vault
then erases them (hourly, in the running vault). `--dry-run` lists what is due without
erasing; `--run` erases it now.
"""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.common import ROLES, CliError, logged_in, login_as, moment, print_json, say
from api.client import command
from vault.record_types import RECORD_TYPES

MAX_KEEP_DAYS = 36_600


def parse_rule(text: str) -> tuple[str, int]:
    """``--set TYPE=DAYS``: the record type and the days its records are kept after expiry."""
    kind, sep, days = text.partition("=")
    kind = kind.strip()
    if not sep or kind not in RECORD_TYPES:
        raise CliError(f"--set {text!r}: name a record type and days, e.g. licence=3650 ({', '.join(RECORD_TYPES)})")
    try:
        value = int(days.strip())
    except ValueError:
        raise CliError(f"--set {text!r}: {days.strip()!r} is not a whole number of days") from None
    if not 0 <= value <= MAX_KEEP_DAYS:
        raise CliError(f"--set {text!r}: keep 0-{MAX_KEEP_DAYS} days after expiry")
    return kind, value


def parse_type(text: str) -> str:
    """``--unset TYPE``: a record type."""
    if text.strip() not in RECORD_TYPES:
        raise CliError(f"--unset {text!r}: name a record type ({', '.join(RECORD_TYPES)})")
    return text.strip()


def cmd_retention(args: argparse.Namespace) -> int:
    rules = [parse_rule(text) for text in args.set or []]
    unset = [parse_type(text) for text in args.unset or []]
    with logged_in(args) as login:
        if login.role != "admin":
            who = ROLES.get(login.role, login.role)
            raise CliError(f"{login.name!r} is {who}; `retention` takes the governance admin's key, e.g. admin")
        if rules:
            result: Any = [
                login.client.request("PUT", f"/retention-rules/{kind}", {"keep_days_after_expiry": days})
                for kind, days in rules
            ]
            for kind, days in rules:
                say(f"{kind}: kept {days} day{'s' if days != 1 else ''} after expiry, then erased")
        elif unset:
            for kind in unset:
                login.client.request("DELETE", f"/retention-rules/{kind}")
                say(f"{kind}: no retention rule; its records are kept until erased on request")
            result = login.get("/retention-rules")
        elif args.dry_run:
            result = login.get("/retention/due")
            for due in result:
                say(f"due {moment(due['due_at'])}: {due['type']} {due['record_id']} of {due['issuer_code']}")
            say(f"{len(result)} record(s) due; nothing was erased")
        elif args.run:
            result = login.post("/retention/run")
            say(f"erased {len(result['erased'])} record(s) past their retention rule; their issuers are told")
        else:
            result = login.get("/retention-rules")
            if not result:
                say(f"no retention rule: `{command(args.datadir, f'retention --as {args.as_} --set licence=3650')}`")
    print_json(result)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("retention", help="retention rules: show, set, list what is due (--dry-run), erase it (--run)")
    login_as(r, "the governance admin's key, e.g. admin")
    do = r.add_mutually_exclusive_group()
    do.add_argument(
        "--set",
        action="append",
        metavar="TYPE=DAYS",
        help="keep TYPE's records DAYS days after expiry, e.g. licence=3650",
    )
    do.add_argument(
        "--unset", action="append", metavar="TYPE", help="no rule for TYPE: its records are kept until erased"
    )
    do.add_argument("--dry-run", action="store_true", help="list what the retention job would erase now")
    do.add_argument("--run", action="store_true", help="erase what is due now (as the scheduled job does)")
    r.set_defaults(func=cmd_retention)
