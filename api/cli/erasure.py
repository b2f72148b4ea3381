"""Erasure (被遗忘) from a terminal: `erase`, `erasures` and `erasure-notices` (registered by
`api.cli`; `retention` is in `api.cli.retention`).

A subject erases one record, or its whole file, for good: the vault destroys the keys that
open it. A whole file is refused while grants over it are live, and only the subject's key
revokes a grant on chain, so `erase --file` first signs a revocation of each live grant here,
exactly as `revoke-grant` does, then erases. Nothing is erased without a confirmation typed
at a terminal, or `--yes`. Issuers list what of theirs was erased.

Arguments are checked before any network round trip; stdout carries only the API's JSON,
what was done goes to stderr in words.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from api.cli.common import (
    ROLES,
    CliError,
    Login,
    logged_in,
    login_as,
    moment,
    on_chain,
    prepared_revocation,
    print_json,
    say,
)
from api.cli.parsing import row_id
from api.client import ApiError, command

# Grants the vault still counts as live (stored "pending" or "active", not yet expired): what a
# subject sees as these statuses. "exhausted" is live on chain too, until it expires.
LIVE = ("pending", "active", "not_yet_valid", "exhausted")
CONFIRM = "yes"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MEANING = (
    "  what it means  gone for good: the keys that open it are destroyed and cannot be brought back;\n"
    "                 its issuer is told; verifiers are told it was erased; the hashes on chain\n"
    "                 stay and reveal nothing about you"
)


def _role(login: Login, role: str, doing: str, whose: str) -> None:
    if login.role != role:
        raise CliError(f"{login.name!r} is {ROLES.get(login.role, login.role)}; {doing} takes {whose}")


def _uuid(text: str) -> str:
    if not _UUID.fullmatch(text.strip()):
        raise CliError(
            f"{text!r} is not a record id: a UUID such as 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b, "
            'the "id" `datavault records` lists'
        )
    return text.strip().lower()


def confirmed(question: str) -> bool:
    """The person typed ``yes`` at the terminal (the question goes to stderr, as stdout is JSON)."""
    print(f"{question} Type {CONFIRM} to go on: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() == CONFIRM


def _interactive_or_yes(args: argparse.Namespace) -> None:
    if not args.yes and not sys.stdin.isatty():
        raise CliError(
            "erasure cannot be undone and no one is at a terminal to confirm it: "
            "run it at a terminal, or add --yes to erase without asking"
        )


def _grant_line(grant: dict[str, Any]) -> str:
    return (
        f"    {grant['id']}  {grant['grantee']} ({grant['status']}): {', '.join(grant['record_types'])}; "
        f"{', '.join(grant['fields'])} — {grant['purpose']}"
    )


def _revoke(login: Login, grant: dict[str, Any]) -> dict[str, Any]:
    typed = prepared_revocation(login, "/me", login.id, grant["id"])
    say("\n".join([login.signing("a revocation"), _grant_line(grant), on_chain(typed)]))
    result: dict[str, Any] = login.post(
        f"/me/grants/{grant['id']}/revoke", {"signature": login.key.sign_typed_data(typed)}
    )
    return result


def _erase_file(args: argparse.Namespace, login: Login) -> tuple[dict[str, Any], list[str]]:
    done = [e for e in login.get("/me/erasures") if e.get("scope") == "file"]
    if done:
        raise CliError(
            f"this file was already erased on {moment(done[-1]['requested_at'])} (UTC); nothing is left to erase"
        )
    live = [g for g in login.every("/me/grants", "grants") if g.get("status") in LIVE]
    records = login.every("/me/records", "records")
    lines = [f"erase the whole file of {login.name} ({login.id}): {len(records)} record(s), every version", MEANING]
    if live:
        lines += [f"  first revokes  {len(live)} live grant(s), each signed with your key:", *map(_grant_line, live)]
    say("\n".join(lines))
    if not args.yes and not confirmed("Erase your whole file for good?"):
        raise CliError("nothing was erased or revoked")
    revoked = [_revoke(login, g)["id"] for g in live]
    try:
        erasure: dict[str, Any] = login.post("/me/erasures", {"scope": "file"})
    except ApiError as exc:
        still = exc.problem.get("grants") if exc.status == 409 else None
        if not still:
            raise
        so_far = f"revoked {', '.join(revoked)}; " if revoked else ""
        raise CliError(
            f"{so_far}nothing was erased: {len(still)} grant(s) became live meanwhile ({', '.join(still)}); "
            f"run `{command(args.datadir, f'erase --as {args.as_} --file')}` again"
        ) from None
    return erasure, revoked


def _erase_record(args: argparse.Namespace, login: Login, record_id: str) -> dict[str, Any]:
    record = login.get(f"/me/records/{record_id}")
    title = (record.get("document") or {}).get("title") or record.get("type", "")
    say("\n".join([f"erase {title} ({record_id}) of {login.name}, every version", MEANING]))
    if not args.yes and not confirmed("Erase this record for good?"):
        raise CliError("nothing was erased")
    erasure: dict[str, Any] = login.post("/me/erasures", {"scope": "record", "record_id": record_id})
    return erasure


# -- commands ----------------------------------------------------------------------------------


def cmd_erase(args: argparse.Namespace) -> int:
    record_id = _uuid(args.record) if args.record is not None else None
    _interactive_or_yes(args)
    with logged_in(args) as login:
        _role(login, "subject", "`erase`", "the citizen's or enterprise's own key")
        revoked: list[str] = []
        if record_id is not None:
            erasure = _erase_record(args, login, record_id)
        else:
            erasure, revoked = _erase_file(args, login)
    print_json(erasure)
    count = len(erasure["record_ids"])
    what = "the whole file" if erasure["scope"] == "file" else "the record"
    say(
        f"erased {what}: {count} record{'s' if count != 1 else ''} ({', '.join(erasure['record_ids']) or 'none'}); "
        + (f"revoked grant(s) {', '.join(revoked)}; " if revoked else "no grant revoked; ")
        + "their issuers are told"
    )
    return 0


def cmd_erasures(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _role(login, "subject", "`erasures`", "the citizen's or enterprise's own key")
        result = login.get("/me/erasures")
    print_json(result)
    return 0


def cmd_erasure_notices(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _role(login, "department", "`erasure-notices`", "a department's key")
        if args.read:
            result = login.post("/departments/me/erasure-notices/read", {"ids": args.read})
        else:
            result = login.get("/departments/me/erasure-notices" + ("?unread=true" if args.unread else ""))
    print_json(result)
    return 0


# -- arguments ---------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser("erase", help="erase one of your records, or your whole file, for good (被遗忘)")
    login_as(e, "the citizen's or enterprise's own key")
    what = e.add_mutually_exclusive_group(required=True)
    what.add_argument("--record", metavar="ID", help="the record, as `datavault records` lists it")
    what.add_argument(
        "--file", action="store_true", help="your whole file (your live grants are revoked first, signed by you)"
    )
    e.add_argument("--yes", action="store_true", help="do not ask for confirmation (it cannot be undone)")
    e.set_defaults(func=cmd_erase)

    ls = sub.add_parser("erasures", help="what was erased of your file, when, by whom and on what basis")
    login_as(ls, "the citizen's or enterprise's own key")
    ls.set_defaults(func=cmd_erasures)

    n = sub.add_parser("erasure-notices", help="records this department issued that were erased since")
    login_as(n, "the department's key, e.g. dept-gongan")
    which = n.add_mutually_exclusive_group()
    which.add_argument("--unread", action="store_true", help="only those not marked read")
    which.add_argument("--read", type=row_id("notice"), nargs="+", metavar="ID", help="mark these notices read")
    n.set_defaults(func=cmd_erasure_notices)
