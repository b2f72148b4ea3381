"""`datavault crypto`: the vault's crypto suite, and moving the vault to the other one while it
runs (registered by `api.cli`).

`crypto status` shows the recorded suite, the one new ciphertexts are written in, and the
re-encryption's progress; `crypto migrate --to sm` (or `--to intl`) starts it. The running vault
does the work in the background and keeps serving; both take the governance admin's key.
"""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.common import ROLES, CliError, Login, logged_in, moment, print_json, say

ADMIN = "admin"  # the entry `datavault up` / `admin-init` creates


def _admin(login: Login) -> None:
    if login.role != "admin":
        raise CliError(
            f"{login.name!r} is {ROLES.get(login.role, login.role)}; `crypto` takes the governance admin's key"
        )


def summary(report: dict[str, Any]) -> str:
    """One line a person reads: where the vault is, and how far a re-encryption has got."""
    line = f"crypto suite {report['suite']}"
    if report["writing"] != report["suite"]:
        line += f", writing {report['writing']}"
    m = report.get("migration")
    if not m:
        return line + "; never re-encrypted"
    if m["phase"] == "done":
        line += f"; re-encrypted from {m['source']} to {m['target']}, finished {moment(m['finished_at'])}"
    else:
        line += (
            f"; re-encryption {m['source']} -> {m['target']} {m['phase']}: {m['subjects_done']}/{m['subjects_total']} "
            f"subjects, started {moment(m['started_at'])}"
        )
    line += f" ({m['records_moved']} record bodies and {m['sealed_moved']} sealed values re-encrypted)"
    if m.get("last_error"):
        line += f"; last error at {moment(m['last_error_at'])}: {m['last_error']}"
    return line


def cmd_status(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _admin(login)
        report = login.get("/system/crypto")
    say(summary(report))
    print_json(report)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _admin(login)
        report = login.post("/system/crypto/migration", {"to": args.to})
    say(summary(report))
    say("the vault re-encrypts in the background and keeps serving; `datavault crypto status` shows how far it got")
    print_json(report)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crypto = sub.add_parser("crypto", help="the crypto suite (intl or sm 国密) and re-encryption to the other")
    commands = crypto.add_subparsers(dest="crypto_command", required=True, metavar="{status,migrate}")
    status = commands.add_parser("status", help="the recorded suite and the re-encryption's progress")
    migrate = commands.add_parser("migrate", help="move the vault to the other suite in the background")
    migrate.add_argument("--to", required=True, choices=("intl", "sm"), help="the suite to move to")
    for p in (status, migrate):
        p.add_argument(
            "--as", dest="as_", default=ADMIN, metavar="KEY", help=f"the governance admin's key (default {ADMIN})"
        )
    status.set_defaults(func=cmd_status)
    migrate.set_defaults(func=cmd_migrate)
