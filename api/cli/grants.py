"""Consent from a terminal: `grant`, `grants`, `revoke-grant` and `read` (registered by
`api.cli`; agents are appointed by the commands in `api.cli.delegations`).

The vault prepares EIP-712 typed data; these commands sign it locally with a keystore key, as a
wallet would (eth_signTypedData_v4). Before signing they check that the typed data says what
was asked and show it in words on stderr; stdout carries only the API's JSON, for scripts.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from api.cli.common import (
    ROLES,
    CliError,
    Login,
    acting_base,
    acting_for,
    expect,
    logged_in,
    login_as,
    on_chain,
    prepared_revocation,
    print_json,
    say,
    window,
)
from api.cli.parsing import FROM, UNTIL, int_in, parse_id, parse_list, parse_types, parse_window, type_bits, type_names
from api.client import command
from vault.record_types import RECORD_TYPES

MAX_USES = 1_000_000
WAIT_TIMEOUT = 60.0


# -- reading arguments (all before any network round trip) -------------------------------------


def parse_paths(text: str) -> list[str]:
    paths = parse_list(text, "--fields")
    bad = [p for p in paths if not all(part.strip() for part in p.split("."))]
    if bad:
        raise CliError(f"--fields: {bad[0]!r} is not a field path (names joined by dots, e.g. 住址.城市)")
    return paths


# -- talking to the vault ----------------------------------------------------------------------


def department(login: Login, code: str) -> dict[str, Any]:
    departments: list[dict[str, Any]] = login.get("/departments")
    for dept in departments:
        if dept.get("code") == code:
            return dept
    users = ", ".join(d["code"] for d in departments if "data_user" in d.get("roles", []) and d.get("active")) or "none"
    raise CliError(f"no department {code!r} in this vault (data users: {users})")


def find_grant(login: Login, base: str, gid: str) -> dict[str, Any]:
    """One grant, from ``/me``, ``/subjects/{id}`` or (base "") the ones a department holds."""
    if base == "/me":
        found: dict[str, Any] = login.get(f"/me/grants/{gid}")
        return found
    for grant in login.every(f"{base}/grants", "grants"):
        if grant["id"] == gid:
            return dict(grant)
    raise CliError(f"grant not found: {gid}")


def wait_anchored(login: Login, base: str, grant: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_TIMEOUT
    while grant.get("status") == "pending":
        if time.monotonic() > deadline:
            raise CliError(
                f"grant {grant['id']} is still pending after {WAIT_TIMEOUT:.0f}s; is the vault's chain node up?"
            )
        time.sleep(0.3)
        grant = find_grant(login, base, grant["id"])
    if grant.get("status") == "failed":
        raise CliError(f"the chain refused grant {grant['id']}: {grant.get('status_reason') or 'no reason given'}")
    return grant


# -- commands ----------------------------------------------------------------------------------


def cmd_grant(args: argparse.Namespace) -> int:
    types, paths, purpose = parse_types(args.types), parse_paths(args.fields), args.purpose.strip()
    if not purpose:
        raise CliError("--purpose must say why, e.g. '核验驾驶资格'")
    start, until = parse_window(args.until, args.from_, "grant")
    subject = parse_id(args.for_, "subject") if args.for_ else None
    body: dict[str, Any] = {
        "grantee": args.to,
        "record_types": types,
        "fields": paths,
        "purpose_code": args.purpose_code,
        "purpose": purpose,
        "expires_at": until,
        "max_uses": args.uses,
    }
    if start is not None:
        body["not_before"] = start
    if args.allow_unissued_fields:
        body["allow_unissued_fields"] = True
    with logged_in(args) as login:
        base, sid = acting_base(login, subject, "granting")
        grantee = department(login, args.to)
        typed = login.post(f"{base}/grants/prepare", body)["typed_data"]
        asked = {
            "subject": sid,
            "grantee": grantee["chain_address"],
            "recordTypes": type_bits(types),
            "fields": paths,
            "purposeCode": args.purpose_code,
            "purpose": purpose,
            "expiresAt": until,
            "maxUses": args.uses,
        }
        m = expect(typed, "Grant", {**asked, **({"notBefore": start} if start is not None else {})})
        uses = int(m["maxUses"])
        say(
            "\n".join(
                [
                    login.signing("a grant"),
                    f"  grantee  {grantee['code']} {grantee['name']} ({m['grantee']})",
                    f"  subject  {m['subject']}",
                    f"  types    {type_names(int(m['recordTypes']))}",
                    f"  fields   {', '.join(m['fields'])}",
                    f"  purpose  {m['purpose']} (code {m['purposeCode']})",
                    f"  window   {window(int(m['notBefore']), int(m['expiresAt']))}",
                    f"  uses     at most {uses} read{'s' if uses != 1 else ''}",
                    on_chain(typed),
                ]
            )
        )
        grant = login.post(f"{base}/grants", {"message": m, "signature": login.key.sign_typed_data(typed)})
        if args.wait:
            grant = wait_anchored(login, base, grant)
    print_json(grant)
    if grant["status"] == "pending":
        say(
            f"grant {grant['id']} is pending: {args.to} can read once it is anchored on chain, in seconds "
            f"(`{command(args.datadir, f'grants --as {args.as_}')}` shows its status; --wait waits for it)"
        )
    return 0


def cmd_grants(args: argparse.Namespace) -> int:
    gid = parse_id(args.grant) if args.grant else None
    if args.receipt and gid is None:
        raise CliError(
            f"--receipt needs a grant id: {command(args.datadir, f'grants --as {args.as_} <grant id> --receipt')}"
        )
    subject = parse_id(args.for_, "subject") if args.for_ else None
    with logged_in(args) as login:
        if login.role not in ("subject", "delegate", "department"):
            raise CliError(
                f"{login.name!r} is {ROLES.get(login.role, login.role)}; `grants` takes a citizen's, "
                "enterprise's or department's key, or an agent's with --for"
            )
        held = login.role == "department" and subject is None
        base = "" if held else acting_base(login, subject, "`grants`")[0]
        if args.receipt:
            if base != "/me":
                raise CliError(
                    "a consent receipt is the subject's to keep: ask for it with the citizen's or enterprise's own key"
                )
            result = login.get(f"/me/grants/{gid}/receipt")
        else:
            result = find_grant(login, base, gid) if gid else login.every(f"{base}/grants", "grants")
    print_json(result)
    return 0


def cmd_revoke_grant(args: argparse.Namespace) -> int:
    gid = parse_id(args.grant)
    subject = parse_id(args.for_, "subject") if args.for_ else None
    with logged_in(args) as login:
        base, sid = acting_base(login, subject, "revoking a grant")
        grant = find_grant(login, base, gid)
        if grant["status"] == "revoked":
            raise CliError(f"grant {gid} is already revoked")
        typed = prepared_revocation(login, base, sid, gid)
        say(
            "\n".join(
                [
                    login.signing("a revocation"),
                    f"  grant    {gid} ({grant['status']})",
                    f"  grantee  {grant['grantee']}: {', '.join(grant['record_types'])}; {', '.join(grant['fields'])}",
                    f"  purpose  {grant['purpose']}",
                    "  effect   at once: the grantee can read nothing more under it",
                    on_chain(typed),
                ]
            )
        )
        result = login.post(f"{base}/grants/{gid}/revoke", {"signature": login.key.sign_typed_data(typed)})
    print_json(result)
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    gid = parse_id(args.grant)
    body: dict[str, Any] = {}
    if args.types:
        body["record_types"] = parse_types(args.types)
    if args.fields:
        body["fields"] = parse_paths(args.fields)
    with logged_in(args) as login:
        disclosure = login.post(f"/grants/{gid}/read", body)
    print_json(disclosure)
    count = len(disclosure["records"])
    if not count:
        say(
            "nothing disclosed: no record under this grant holds the fields asked for; no use "
            f"counted ({disclosure['uses']} of {disclosure['max_uses']} used)"
        )
        return 0
    say(
        f"{count} record{'s' if count != 1 else ''} disclosed for {disclosure['purpose']!r}; "
        f"use {disclosure['uses']} of {disclosure['max_uses']}"
    )
    return 0


# -- arguments ---------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser("grant", help="give a department scoped, time-limited access to your records (you sign it)")
    login_as(g, "the subject's key, or its agent's (with --for)")
    g.add_argument("--to", required=True, metavar="CODE", help="the department's code, e.g. renshe")
    g.add_argument("--types", required=True, help=f"record types, comma-separated: {','.join(RECORD_TYPES)}")
    g.add_argument("--fields", required=True, help="field paths, comma-separated, e.g. 姓名,准驾车型 or 住址.城市")
    g.add_argument("--purpose", required=True, help="why, in words, e.g. 核验驾驶资格")
    g.add_argument(
        "--purpose-code", type=int_in(0, 65535), default=0, help="purpose code from your catalogue (default 0)"
    )
    g.add_argument("--until", required=True, metavar="WHEN", help=UNTIL)
    g.add_argument("--from", dest="from_", metavar="WHEN", help=FROM)
    g.add_argument("--uses", type=int_in(1, MAX_USES), default=1, help="how many reads it allows (default 1)")
    g.add_argument(
        "--allow-unissued-fields",
        action="store_true",
        help="grant fields no record of these types has yet (for records still to be issued)",
    )
    acting_for(g)
    g.add_argument("--wait", action="store_true", help="return once the grant is anchored, i.e. usable")
    g.set_defaults(func=cmd_grant)

    ls = sub.add_parser("grants", help="a subject's grants, or those a department holds; one, or its consent receipt")
    login_as(ls, "a subject's, agent's (with --for) or department's key")
    ls.add_argument("grant", nargs="?", help="grant id")
    ls.add_argument("--receipt", action="store_true", help="the consent receipt of the grant (subject's key)")
    acting_for(ls)
    ls.set_defaults(func=cmd_grants)

    rg = sub.add_parser("revoke-grant", help="withdraw a grant; takes effect at once (you sign it)")
    login_as(rg, "the subject's key, or its agent's (with --for)")
    rg.add_argument("grant", help="grant id")
    acting_for(rg)
    rg.set_defaults(func=cmd_revoke_grant)

    rd = sub.add_parser("read", help="read a subject's data under a grant, as the grantee department (one use)")
    login_as(rd, "the department's key, e.g. dept-renshe")
    rd.add_argument("grant", help="grant id")
    rd.add_argument("--types", help="only these record types (default: all the grant covers)")
    rd.add_argument("--fields", help="only these field paths (default: all the grant covers)")
    rd.set_defaults(func=cmd_read)
