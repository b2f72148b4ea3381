"""Who accessed my data (使用知情) from a terminal: a subject's `access-log`, or its agent's or
guardian's with --for (registered by `api.cli`). With --verify every entry's proof is checked
here against the root anchored on chain: exit 0 when all hold, 1 when one does not.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from api.cli.common import (
    EXIT_INVALID,
    ROLES,
    CliError,
    acting_base,
    acting_for,
    logged_in,
    login_as,
    pages,
    print_json,
    say,
)
from api.cli.parsing import int_in, parse_id


def cmd_access_log(args: argparse.Namespace) -> int:
    subject = parse_id(args.for_, "subject") if args.for_ else None
    with logged_in(args) as login:
        if login.role not in ("subject", "delegate"):
            who = ROLES.get(login.role, login.role)
            raise CliError(
                f"{login.name!r} is {who}; `access-log` takes a citizen's or enterprise's key, "
                "or their agent's or guardian's with --for"
            )
        base, _ = acting_base(login, subject, "`access-log`")
        order = {"order": "oldest" if args.oldest_first else "newest"}
        result: dict[str, Any] = {}
        for page in pages(login, f"{base}/access-log", order, args.limit):
            if not result:
                result = {"subject_id": page["subject_id"], "head": page["head"], "entries": []}
            result["entries"] += page["entries"]
    print_json(result)
    entries = result.get("entries", [])
    pending = sum(1 for e in entries if e["pending"])
    if not args.verify:
        say(
            f"{len(entries)} access{'es' if len(entries) != 1 else ''} by others; {pending} pending (newer "
            "than the last anchored head)"
        )
        return 0
    return _verify_entries(entries, pending)


def _verify_entries(entries: list[dict[str, Any]], pending: int) -> int:
    from vault.audit.access_log import verify_access_entry

    proved = [e for e in entries if e.get("proof")]
    failed = [
        e["seq"]
        for e in proved
        if not verify_access_entry(
            json.dumps(e["entry"], ensure_ascii=False),
            e["seq"],
            e["proof"]["path"],
            e["proof"]["tree_size"],
            e["proof"]["root"],
        )
    ]
    heads = sorted(
        {
            (e["proof"]["tree_size"], e["proof"]["root"], e["proof"]["tx_hash"], e["proof"]["block_number"])
            for e in proved
        }
    )
    against = "; ".join(
        f"tree size {size}, root {root}, anchored in tx {tx} (block {block})" for size, root, tx, block in heads
    )
    later = f"; {pending} pending (newer than the anchored head, proved once the next is anchored)" if pending else ""
    if failed:
        say(
            f"FAILED: {len(failed)} of {len(proved)} entries do not verify (seq "
            f"{', '.join(map(str, failed))}) against {against}"
        )
        return EXIT_INVALID
    if not proved:
        say(f"nothing to verify yet: no anchored head covers these entries{later}")
        return 0
    say(f"verified {len(proved)} of {len(proved)} entries against {against}{later}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = sub.add_parser(
        "access-log", help="who accessed your data (使用知情), each entry with a proof against the chain"
    )
    login_as(a, "the subject's key, or its agent's or guardian's (with --for)")
    acting_for(a)
    a.add_argument(
        "--verify",
        action="store_true",
        help="check every entry's proof here, against the anchored root (exit 1 if one fails)",
    )
    a.add_argument("--limit", type=int_in(1, 2**63 - 1), metavar="N", help="the newest N entries (default: all)")
    a.add_argument("--oldest-first", action="store_true")
    a.set_defaults(func=cmd_access_log)
